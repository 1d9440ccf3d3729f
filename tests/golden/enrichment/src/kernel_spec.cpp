// The kernel's spec, declared once: its name, the topics it uses unless its configuration names
// others, its own settings and named outputs, and its handler. main() runs it; the tests build
// on it (tests/handler_test.cpp, tests/integration_test.cpp). Everything else is configuration
// (.env.template); the logic is in handler.cpp. new-kernel add and remove (setting, output)
// rewrite the declarations here.
#include "kernel_spec.hpp"

#include "handler.hpp"

namespace payment_enricher {

kernel::KernelSpec kernel_spec() {
  kernel::KernelSpec spec;
  spec.name = "payment-enricher";
  spec.version = PAYMENT_ENRICHER_VERSION;  // project(VERSION) in CMakeLists.txt
  spec.description = "Adds account details to payments.";
  spec.input_topics = {"payments"};
  spec.output_topic = "payments.enriched";
  spec.handler = payment_enricher::handle;
  return spec;
}

}  // namespace payment_enricher
