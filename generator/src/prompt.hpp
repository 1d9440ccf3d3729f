#pragma once
/// Asking for missing values on a terminal.
#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace new_kernel {

/// Whether both standard input and standard error are terminals (prompts go to stderr so
/// that stdout stays the generator's output).
bool interactive_terminal() noexcept;

/// Asks `question` until `check` accepts the answer (it returns the problems, shown one per
/// line). An empty answer takes `default_value` when there is one. nullopt at end of input.
std::optional<std::string> ask(std::istream& in, std::ostream& out, const std::string& question,
                               const std::string& default_value,
                               const std::function<std::vector<std::string>(const std::string&)>& check);

/// Splits "a, b,c" into {"a", "b", "c"}.
std::vector<std::string> split_list(const std::string& text);

}  // namespace new_kernel
