// The kernel's name, the topics it uses unless its configuration names others, and its
// handler. Everything else is configuration (.env.template); the logic is in handler.cpp.
#include <kernel/kernel.hpp>

#include "handler.hpp"

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "payment-mapper";
  spec.version = PAYMENT_MAPPER_VERSION;  // project(VERSION) in CMakeLists.txt
  spec.description = "Maps payments to \"cents\" documents: $HOME, ${X}, `x`, *y*, <z> & a\\b; done.";
  spec.input_topics = {"payments", "refunds"};
  spec.output_topic = "payments.mapped";
  spec.handler = payment_mapper::handle;
  return kernel::run(spec, argc, argv);
}
