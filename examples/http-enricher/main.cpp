// http-enricher: adds the customer service's record of each order's customer (README.md).
#include <kernel/kernel.hpp>

#include "customer_client.hpp"
#include "enrich.hpp"

int main(int argc, char** argv) {
  http_enricher::CustomerClient customers;  // kept-alive connections, shared by the workers

  kernel::KernelSpec spec;
  spec.name = "http-enricher";
  spec.description = "adds customer_details from the customer service to each order";
  spec.input_topics = {"orders"};
  spec.output_topic = "orders.enriched";
  spec.settings = {
      {.name = "SERVICE_URL",
       .default_value = "http://127.0.0.1:8081",
       .description = "the customer service: GET <url>/customers/<id>"},
      {.name = "REQUEST_TIMEOUT",
       .type = kernel::SettingType::duration,
       .default_value = "2s",
       .description = "the longest a call waits, when KERNEL_HANDLER_TIMEOUT leaves more time or is unset"},
  };
  spec.handler = [&customers](const kernel::Message& message, kernel::Context& context) {
    http_enricher::enrich_order(message, context, customers);
  };
  // A service outage fails every call alike: the circuit breaker (5 consecutive failures by
  // default) must open before a message runs out of attempts, or the outage fills the
  // dead-letter topic with good orders. 6 attempts keep that true on a single partition.
  spec.retry.max_retries = 5;
  return kernel::run(spec, argc, argv);
}
