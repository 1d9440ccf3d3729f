// The kernel's spec, declared once: its name, the topics it uses unless its configuration names
// others, its own settings and named outputs, and its handler. main() runs it; the tests build
// on it (tests/handler_test.cpp, tests/integration_test.cpp). Everything else is configuration
// (.env.template); the logic is in handler.cpp. new-kernel add and remove (setting, output)
// rewrite the declarations here.
#include "kernel_spec.hpp"

#include "handler.hpp"

namespace order_sink {

kernel::KernelSpec kernel_spec() {
  kernel::KernelSpec spec;
  spec.name = "order-sink";
  spec.version = ORDER_SINK_VERSION;  // project(VERSION) in CMakeLists.txt
  spec.description = "Writes orders to the warehouse in batches.";
  spec.input_topics = {"orders"};
  // Named outputs: batch.produce_to(i, "name", message) writes one for message i;
  // KAFKA_OUTPUT_TOPIC_<NAME> overrides its topic.
  spec.outputs = {
      {"rejected", "orders.rejected"},
  };
  // Up to KERNEL_BATCH_SIZE messages of one partition per call, handed over when full or
  // KERNEL_BATCH_TIMEOUT after the first arrived (docs/batches.md). Consumer middleware does
  // not wrap batches: spec.middleware may hold kernel::middleware::metrics() and nothing else,
  // and KERNEL_CONCURRENCY must stay 1 (both refused at start otherwise).
  spec.batch_handler = order_sink::handle_batch;
  return spec;
}

}  // namespace order_sink
