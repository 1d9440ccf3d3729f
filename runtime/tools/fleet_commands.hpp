#pragma once
// kernel-admin pause|resume: a fleet-wide command written to a kernel's control topic, which
// every instance of the kernel reads (docs/operations.md#fleet-wide-pause).
//
//   kernel-admin pause --kernel NAME [--topic T [--partition P]] [--reason TEXT]
//   kernel-admin resume --kernel NAME [--topic T [--partition P]] [--reason TEXT]
#include <memory>

#include <CLI/CLI.hpp>

#include "kernel/config.hpp"

namespace kernel::tools {

/// The `pause` and `resume` subcommands: declared on the tool's CLI::App, checked after
/// parsing, run with the tool's configuration.
class FleetCommandLine {
 public:
  explicit FleetCommandLine(CLI::App& app);
  ~FleetCommandLine();
  FleetCommandLine(const FleetCommandLine&) = delete;
  FleetCommandLine& operator=(const FleetCommandLine&) = delete;

  /// Whether the command line chose `pause` or `resume`.
  bool chosen() const;
  /// Checks what CLI11 cannot (names, --partition without --topic, the reason's length)
  /// before anything connects: 0, or one line on stderr and 64.
  int check_arguments();
  /// Writes the command and waits for the broker's acknowledgement; returns the exit code
  /// (a failure printed as one line on stderr).
  int run(const Config& config, int timeout_ms, bool json);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kernel::tools
