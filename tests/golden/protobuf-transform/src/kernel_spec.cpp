// The kernel's spec, declared once: its name, the topics it uses unless its configuration names
// others, its own settings and named outputs, and its handler. main() runs it; the tests build
// on it (tests/handler_test.cpp, tests/integration_test.cpp). Everything else is configuration
// (.env.template); the logic is in handler.cpp. new-kernel add and remove (setting, output)
// rewrite the declarations here.
#include "kernel_spec.hpp"

#include "handler.hpp"

namespace order_mapper {

kernel::KernelSpec kernel_spec() {
  kernel::KernelSpec spec;
  spec.name = "order-mapper";
  spec.version = ORDER_MAPPER_VERSION;  // project(VERSION) in CMakeLists.txt
  spec.description = "Maps orders to the order service's format.";
  spec.input_topics = {"orders"};
  spec.output_topic = "orders.mapped";
  spec.handler = order_mapper::handle;
  return spec;
}

}  // namespace order_mapper
