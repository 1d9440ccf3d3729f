#pragma once
/// The commands that work on a kernel generated earlier (docs/generator.md):
///
///   new-kernel upgrade [DIR] [--templates DIR] [--dry-run] [--diff] [--set k=v] [--allow-dirty]
///   new-kernel check [DIR] [--templates DIR]
///   new-kernel diff [DIR] [--template PATH] [--templates DIR]
#include <functional>
#include <string>
#include <string_view>

#include "render.hpp"

namespace new_kernel {

/// A change to a kernel's recorded answers (add and remove: its settings or outputs); throws
/// UsageError to refuse it, before anything is written.
using AnswerChange = std::function<void(Answers&)>;

/// What `new-kernel add` and `remove` ask of the upgrade: its options, and the change.
struct AnswerUpgrade {
  std::string directory = ".";
  std::string templates_directory;  ///< empty: the built-in templates
  bool dry_run = false;
  bool show_diff = false;
  bool allow_dirty = false;
  AnswerChange change;
};

/// `new-kernel upgrade` with `change` applied to the recorded answers: the same rendering,
/// dirty-tree refusal, all-or-nothing write, output and exit codes.
int upgrade_with_answers(const AnswerUpgrade& request, const Versions& versions);

/// Whether `word` (the first argument) names one of these commands.
bool is_kernel_command(std::string_view word) noexcept;

/// Runs the command `argv[0]` with its arguments; returns the exit code. Throws
/// GeneratorError (main() prints it in one line per problem).
int run_kernel_command(int argc, char** argv, const Versions& versions);

}  // namespace new_kernel
