#pragma once
// Configuration problems, collected one line each and reported all at once (validate.cpp).
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kernel::config_detail {

/// Collects configuration problems, one line each, all reported at once (docs/configuration.md).
class Problems {
 public:
  /// `config error: VAR="value": message`, or `config error: VAR: message (value hidden)`
  /// for secrets; PEM values are never echoed either (they span lines).
  void add(std::string_view variable, std::string_view value, std::string_view message);
  /// `config error: VAR: message` (no value to show, e.g. a missing variable).
  void add_without_value(std::string_view variable, std::string_view message);
  /// `config error: message` for problems no single variable owns.
  void add_general(std::string_view message);

  bool mentions(std::string_view variable) const { return variables_.contains(std::string(variable)); }
  /// A variable beyond the registry (a kernel's secret setting) whose value is never shown.
  void hide_value_of(std::string variable) { hidden_.insert(std::move(variable)); }
  bool empty() const noexcept { return lines_.empty(); }
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  std::vector<std::string> lines_;
  std::set<std::string, std::less<>> variables_;
  std::set<std::string, std::less<>> hidden_;
};

/// A value made printable on one line, to be shown between quotes (core/printable_text.hpp),
/// cut after 120 characters.
std::string printable_value(std::string_view value);

}  // namespace kernel::config_detail
