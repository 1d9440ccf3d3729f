#pragma once
// kernel-admin dlq list|stats|replay: look into a dead-letter topic and send chosen dead
// letters back. See docs/dead-letters.md.
//
//   kernel-admin dlq list TOPIC [--reason R] [--key K] [--since TIME] [--until TIME] [--limit N] [--json]
//   kernel-admin dlq stats TOPIC [filters] [--json]
//   kernel-admin dlq replay TOPIC [--to TOPIC] [filters] [--dry-run] [--again]
#include <memory>

#include <CLI/CLI.hpp>

#include "kernel/config.hpp"

namespace kernel::tools {

/// The `dlq` subcommand of kernel-admin: declared on the tool's CLI::App, checked after
/// parsing, run with the tool's configuration.
class DlqCommands {
 public:
  explicit DlqCommands(CLI::App& app);
  ~DlqCommands();
  DlqCommands(const DlqCommands&) = delete;
  DlqCommands& operator=(const DlqCommands&) = delete;

  /// Whether the command line chose `dlq`.
  bool chosen() const;
  /// Checks what CLI11 cannot (TIME values, --reason names, topic names) before anything
  /// connects: 0, or one line on stderr and 64.
  int check_arguments();
  /// Runs the chosen command; `json` is kernel-admin's own --json. Returns the exit code,
  /// having printed any failure as one line on stderr.
  int run(const Config& config, int timeout_ms, bool json);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kernel::tools
