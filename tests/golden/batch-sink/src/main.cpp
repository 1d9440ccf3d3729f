// The kernel's name, the topics it uses unless its configuration names others, and its
// handler. Everything else is configuration (.env.template); the logic is in handler.cpp.
#include <kernel/kernel.hpp>

#include "handler.hpp"

int main(int argc, char** argv) {
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
  return kernel::run(spec, argc, argv);
}
