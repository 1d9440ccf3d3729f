// order-pricer: step `price` of pipeline `orders` (README.md). It reads what step `validate`
// wrote (KAFKA_TOPIC=pipeline.${pipelineName}.step.validate.output), and hands orders to two
// other pipelines, billing and shipping, whose topics the produce guard lets it write only when
// KERNEL_ALLOWED_TOPICS lists them.
#include <kernel/kernel.hpp>

#include "price_order.hpp"

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "order-pricer";
  spec.description = "prices validated orders; invoices large ones, hands express ones to shipping";
  spec.input_topics = {"pipeline.orders.step.price.input"};
  spec.output_topic = "pipeline.orders.step.price.output";
  spec.settings = {
      {.name = "INVOICE_TOPIC",
       .default_value = "pipeline.billing.step.invoice.input",
       .description = "where orders of 1,000 EUR or more go to be invoiced (the billing pipeline)"},
      {.name = "EXPRESS_TOPIC",
       .default_value = "pipeline.shipping.step.express.input",
       .description = "where express orders go (the shipping pipeline)"},
  };
  spec.handler = pipeline_example::price_order;
  return kernel::run(spec, argc, argv);
}
