#pragma once
// What reading a value from text returns: the value, or the text of what would have been
// accepted ("expected a duration with a unit, e.g. 500ms or 10s"), which problems quote word
// for word. C++20 has no std::expected; this is the little of it the configuration needs.
#include <string>
#include <utility>
#include <variant>

namespace kernel::config_detail {

/// Why a text is not a value: what would be accepted, as the user reads it.
struct ParseError {
  std::string what;
};

/// The failure of a parse, for `return parse_error("expected ...");`.
inline ParseError parse_error(std::string what) { return {std::move(what)}; }

/// A value read from text, or the ParseError saying why there is none. Reads like an optional
/// (`if (parsed) use(*parsed)`), with error() for the failure's text.
template <typename T>
class Parsed {
 public:
  // Implicit, as an optional's: `return value;` and `return parse_error(...);` both read plainly.
  Parsed(T value) : state_(std::in_place_index<0>, std::move(value)) {}           // NOLINT(google-explicit-constructor)
  Parsed(ParseError error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& operator*() & { return std::get<0>(state_); }
  const T& operator*() const& { return std::get<0>(state_); }
  T&& operator*() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }

  /// What would have been accepted; only for a failure.
  const std::string& error() const& { return std::get<1>(state_).what; }
  std::string error() && { return std::move(std::get<1>(state_).what); }

 private:
  std::variant<T, ParseError> state_;
};

}  // namespace kernel::config_detail
