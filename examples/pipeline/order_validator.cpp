// order-validator: step `validate` of pipeline `orders` (README.md). With KERNEL_PIPELINE=orders
// and KERNEL_STEP=validate its topics follow the pipeline convention; the ones compiled in here
// are the same names, for a run without those variables.
#include <kernel/kernel.hpp>

#include "validate_order.hpp"

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "order-validator";
  spec.description = "checks orders and passes the valid ones on";
  spec.input_topics = {"pipeline.orders.step.validate.input"};
  spec.output_topic = "pipeline.orders.step.validate.output";
  spec.handler = pipeline_example::validate_order;
  return kernel::run(spec, argc, argv);
}
