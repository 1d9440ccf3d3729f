#pragma once
/// Growing a kernel after generation (docs/generator.md):
///
///   new-kernel add setting NAME=TYPE[:DEFAULT[:DESCRIPTION]] [--secret] [--dir DIR] [--dry-run] ...
///   new-kernel add output NAME=TOPIC [--dir DIR] [--dry-run] ...
///   new-kernel remove setting|output NAME [--dir DIR] [--dry-run] ...
///
/// Each records the answer in the manifest and re-renders the managed files through the
/// upgrade (kernel_commands.hpp), with its refusals, all-or-nothing write and exit codes.
#include <string_view>

#include "render.hpp"

namespace new_kernel {

/// Whether `word` (the first argument) is `add` or `remove`.
bool is_answer_command(std::string_view word) noexcept;

/// Runs `argv[0]` (add or remove) with its arguments; returns the exit code. Throws
/// GeneratorError (main() prints it in one line per problem).
int run_answer_command(int argc, char** argv, const Versions& versions);

}  // namespace new_kernel
