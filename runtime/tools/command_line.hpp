#pragma once
// What the tools share on the command line: whole numbers checked before use (decimal digits
// only, within a range; CLI11 alone would take 0x10 as 16, 010 as 8, and an int64 option
// would take 99999999999999999999 as its maximum), and parse errors as one line and exit 64.
#include <charconv>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "kernel/exit_codes.hpp"

namespace kernel::tools {

/// `text` as a whole number if it is decimal digits (an optional leading `-`) within
/// [minimum, maximum]; nullopt otherwise.
inline std::optional<long long> parse_whole_number(std::string_view text, long long minimum, long long maximum) {
  const auto digits = text.starts_with('-') ? text.substr(1) : text;
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;  // out of range
  if (value < minimum || value > maximum) return std::nullopt;
  return value;
}

/// A CLI11 transform for parse_whole_number() (it writes the number back in plain decimal);
/// `unit` names what is counted ("milliseconds").
inline CLI::Validator whole_number(long long minimum, long long maximum, const std::string& unit) {
  const auto expected = "expected " + unit + " from " + std::to_string(minimum) + " to " + std::to_string(maximum);
  return CLI::Validator(
      [=](std::string& input) -> std::string {
        if (const auto value = parse_whole_number(input, minimum, maximum)) {
          input = std::to_string(*value);  // CLI11 would read a leading 0 as octal
          return {};
        }
        return "\"" + input + "\" is not accepted: " + expected;
      },
      unit + " " + std::to_string(minimum) + ".." + std::to_string(maximum));
}

/// Help (exit 0), or a parse error as one line `tool: message (see --help)` and exit 64.
inline int report_parse_error(const CLI::App& app, const CLI::ParseError& error, std::string_view tool) {
  if (error.get_exit_code() == 0) return app.exit(error);  // --help and friends
  std::cerr << tool << ": " << error.what() << " (see --help)\n";
  return exit_code::usage;
}

}  // namespace kernel::tools
