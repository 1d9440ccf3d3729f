// payment-mapper: the kernel's entry point. Its name, the topics it reads and writes by default
// and its handler live here, and only here; everything else (brokers, TLS, retries, ...) is
// configuration read from the environment: see .env.template and README.md.
//
// Managed by new-kernel (upgrades merge your edits into it). Business logic goes in
// handler.cpp.
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

  // Parses the command line (--dev, --samples FILE, --print-config, --version, --help), reads
  // and checks the configuration, then consumes until SIGINT or SIGTERM and returns the exit
  // code (0 clean, 1 fatal handler error, 64 usage, 69 unavailable, 78 configuration, ...).
  return kernel::run(spec, argc, argv);
}
