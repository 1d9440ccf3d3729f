// The kernel's name, the topics it uses unless its configuration names others, and its
// handler. Everything else is configuration (.env.template); the logic is in handler.cpp.
#include <kernel/kernel.hpp>

#include "handler.hpp"

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "payment-enricher";
  spec.version = PAYMENT_ENRICHER_VERSION;  // project(VERSION) in CMakeLists.txt
  spec.description = "Adds account details to payments.";
  spec.input_topics = {"payments"};
  spec.output_topic = "payments.enriched";
  spec.handler = payment_enricher::handle;
  return kernel::run(spec, argc, argv);
}
