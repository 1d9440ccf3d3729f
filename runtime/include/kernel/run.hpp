#pragma once
/// The entry a kernel's main() calls:
///
///   int main(int argc, char** argv) { return kernel::run(spec, argc, argv); }
///
/// It parses the command line (--dev, --samples FILE, --print-config [--format
/// env|markdown|json], --health-check, --version, --help),
/// loads the configuration, runs the consumer loop until SIGINT/SIGTERM and returns the exit
/// code docs/reference.md lists (0, 1, 64, 69, 70, 77, 78, 130, 143).
#include "kernel/exit_codes.hpp"
#include "kernel/kernel_settings.hpp"
#include "kernel/spec.hpp"

namespace kernel {

int run(const KernelSpec& spec, int argc, char** argv);

/// The kernel's own settings and named outputs as run() will read them (the environment, then
/// ./.env), for main() to use before run(). Throws ConfigError listing every problem (run()
/// exits 78 on the same ones).
KernelValues load_settings(const KernelSpec& spec);

}  // namespace kernel
