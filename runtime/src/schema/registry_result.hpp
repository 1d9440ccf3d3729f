#pragma once
// What a call to the schema registry returns: the value, or why there is none, sorted so the
// loop can tell a registry that is away (retry) from an answer that will not change (dead
// letter).
#include <string>
#include <utility>
#include <variant>

namespace kernel::schema {

/// Why the registry gave no value.
enum class RegistryErrorKind {
  not_found,       ///< 404: no such schema id, subject or version; permanent
  unavailable,     ///< refused, timed out, 5xx or 429: the registry is away; transient
  incompatible,    ///< 409: the subject's compatibility refuses the schema; permanent
  refused,         ///< any other 4xx (401 bad credentials, 422 invalid schema); permanent
  invalid_answer,  ///< not the JSON expected, or larger than the bound; permanent
};

struct RegistryError {
  RegistryErrorKind kind = RegistryErrorKind::unavailable;
  std::string message;  ///< what happened, with the registry's own message when it gave one

  /// Whether asking again later may succeed.
  bool transient() const noexcept { return kind == RegistryErrorKind::unavailable; }
};

/// A value from the registry, or the RegistryError saying why there is none. Reads like an
/// optional: `if (result) use(*result); else result.error()`.
template <typename T>
class RegistryResult {
 public:
  RegistryResult(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  RegistryResult(RegistryError error)
      : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& operator*() & { return std::get<0>(state_); }
  const T& operator*() const& { return std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }
  /// Only for a failure.
  const RegistryError& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, RegistryError> state_;
};

}  // namespace kernel::schema
