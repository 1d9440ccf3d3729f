// The kernel's spec, declared once: its name, the topics it uses unless its configuration names
// others, its own settings and named outputs, and its handler. main() runs it; the tests build
// on it (tests/handler_test.cpp, tests/integration_test.cpp). Everything else is configuration
// (.env.template); the logic is in handler.cpp. new-kernel add and remove (setting, output)
// rewrite the declarations here.
#include "kernel_spec.hpp"

#include "handler.hpp"

namespace order_auditor {

kernel::KernelSpec kernel_spec() {
  kernel::KernelSpec spec;
  spec.name = "order-auditor";
  spec.version = ORDER_AUDITOR_VERSION;  // project(VERSION) in CMakeLists.txt
  spec.description = "Logs and counts orders.";
  spec.input_topics = {"orders"};
  spec.handler = order_auditor::handle;
  return spec;
}

}  // namespace order_auditor
