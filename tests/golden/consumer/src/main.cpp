// The kernel's name, the topics it uses unless its configuration names others, and its
// handler. Everything else is configuration (.env.template); the logic is in handler.cpp.
#include <kernel/kernel.hpp>

#include "handler.hpp"

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "audit-log";
  spec.version = AUDIT_LOG_VERSION;  // project(VERSION) in CMakeLists.txt
  spec.description = "Logs and counts payments.";
  spec.input_topics = {"payments"};
  spec.handler = audit_log::handle;
  return kernel::run(spec, argc, argv);
}
