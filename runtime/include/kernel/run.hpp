#pragma once
/// The entry a kernel's main() calls:
///
///   int main(int argc, char** argv) { return kernel::run(spec, argc, argv); }
///
/// It parses the command line (--dev, --samples FILE, --print-config, --health-check,
/// --version, --help),
/// loads the configuration, runs the consumer loop until SIGINT/SIGTERM and returns the exit
/// code docs/reference.md lists (0, 1, 64, 69, 70, 77, 78, 130, 143).
#include "kernel/exit_codes.hpp"
#include "kernel/spec.hpp"

namespace kernel {

int run(const KernelSpec& spec, int argc, char** argv);

}  // namespace kernel
