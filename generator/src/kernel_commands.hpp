#pragma once
/// The commands that work on a kernel generated earlier (docs/generator.md):
///
///   new-kernel upgrade [DIR] [--templates DIR] [--dry-run] [--diff] [--set k=v] [--allow-dirty]
///   new-kernel check [DIR] [--templates DIR]
///   new-kernel diff [DIR] [--template PATH] [--templates DIR]
#include <string_view>

#include "render.hpp"

namespace new_kernel {

/// Whether `word` (the first argument) names one of these commands.
bool is_kernel_command(std::string_view word) noexcept;

/// Runs the command `argv[0]` with its arguments; returns the exit code. Throws
/// GeneratorError (main() prints it in one line per problem).
int run_kernel_command(int argc, char** argv, const Versions& versions);

}  // namespace new_kernel
