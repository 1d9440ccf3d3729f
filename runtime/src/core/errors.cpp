#include "kernel/errors.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <string>
#include <system_error>
#include <typeinfo>

namespace kernel {

std::string_view to_string(OutcomeKind kind) noexcept {
  switch (kind) {
    case OutcomeKind::success: return "success";
    case OutcomeKind::transient: return "transient";
    case OutcomeKind::permanent: return "permanent";
    case OutcomeKind::business: return "business";
    case OutcomeKind::fatal: return "fatal";
  }
  return "permanent";
}

namespace {

/// A reason's name; empty for a value the enum does not name. No default: -Wswitch names a
/// reason added to the enum but not here.
constexpr std::string_view name_of(FailureReason reason) noexcept {
  switch (reason) {
    case FailureReason::deserialization_error: return "deserialization_error";
    case FailureReason::validation_error: return "validation_error";
    case FailureReason::processing_error: return "processing_error";
    case FailureReason::retries_exhausted: return "retries_exhausted";
    case FailureReason::output_failed: return "output_failed";
    case FailureReason::timeout: return "timeout";
    case FailureReason::topic_not_allowed: return "topic_not_allowed";
    case FailureReason::schema_not_found: return "schema_not_found";
    case FailureReason::wrong_magic_byte: return "wrong_magic_byte";
    case FailureReason::truncated_payload: return "truncated_payload";
    case FailureReason::schema_mismatch: return "schema_mismatch";
    case FailureReason::schema_registry_unavailable: return "schema_registry_unavailable";
  }
  return {};
}

/// all_failure_reasons holds each named reason once, in order, and none is named after its last.
constexpr bool lists_every_reason() {
  for (std::size_t i = 0; i < all_failure_reasons.size(); ++i) {
    if (static_cast<std::size_t>(all_failure_reasons[i]) != i || name_of(all_failure_reasons[i]).empty()) return false;
  }
  // A scoped enum's underlying type is int: the value after the last listed one is valid.
  return name_of(static_cast<FailureReason>(all_failure_reasons.size())).empty();
}
static_assert(lists_every_reason(), "a FailureReason is missing from all_failure_reasons (kernel/errors.hpp)");

}  // namespace

std::string_view to_string(FailureReason reason) noexcept {
  const auto name = name_of(reason);
  return name.empty() ? "processing_error" : name;
}

namespace {

/// Phrases that mean "try again later" in the messages of common clients and the OS.
constexpr std::array<std::string_view, 9> transient_phrases = {
    "connection refused",     "connection reset", "timeout",     "timed out",        "deadline exceeded",
    "network is unreachable", "broken pipe",      "i/o timeout", "temporary failure"};

/// The errno values of a network that is away or busy.
constexpr std::array<std::errc, 7> transient_errnos = {
    std::errc::connection_refused,   std::errc::connection_reset, std::errc::timed_out,
    std::errc::network_unreachable,  std::errc::broken_pipe,      std::errc::resource_unavailable_try_again,
    std::errc::operation_would_block};

bool is_word_char(char c) noexcept { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

/// Whether `phrase` occurs in `text` with no letter, digit or underscore right before or after it.
bool contains_words(std::string_view text, std::string_view phrase) noexcept {
  for (auto at = text.find(phrase); at != std::string_view::npos; at = text.find(phrase, at + 1)) {
    const auto end = at + phrase.size();
    const bool starts_word = at == 0 || !is_word_char(text[at - 1]);
    const bool ends_word = end == text.size() || !is_word_char(text[end]);
    if (starts_word && ends_word) return true;
  }
  return false;
}

}  // namespace

bool TransientTypes::contains(const std::exception& error) const noexcept {
  return std::any_of(matchers_.begin(), matchers_.end(), [&](auto matches) { return matches(error); });
}

ErrorClass classify_exception(const std::exception& error, const TransientTypes& registered) noexcept {
  if (const auto* system = dynamic_cast<const std::system_error*>(&error)) {
    const auto code = system->code();
    // Compared as conditions: matches system_category and generic_category codes alike.
    if (std::any_of(transient_errnos.begin(), transient_errnos.end(), [&](std::errc e) { return code == e; })) {
      return ErrorClass::transient;
    }
  }
  if (registered.contains(error)) return ErrorClass::transient;
  return classify_message(error.what());
}

ErrorClass classify_message(std::string_view message) noexcept {
  std::string lowered(message);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (auto phrase : transient_phrases) {
    if (contains_words(lowered, phrase)) return ErrorClass::transient;
  }
  return ErrorClass::permanent;
}

namespace {

void erase_all(std::string& text, std::string_view what) {
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at)) text.erase(at, what.size());
}

/// Without the inline namespaces that only version an ABI: `std::__cxx11::`, libc++'s
/// `std::__1::`, `[abi:cxx11]` tags, and nlohmann's `json_abi_v3_11_2::detail::`, whose
/// exceptions users know as `nlohmann::json::type_error`.
std::string readable_type_name(std::string name) {
  erase_all(name, "__cxx11::");
  erase_all(name, "std::__1::");
  for (auto at = name.find("[abi:"); at != std::string::npos; at = name.find("[abi:", at)) {
    const auto end = name.find(']', at);
    name.erase(at, end == std::string::npos ? std::string::npos : end + 1 - at);
  }
  constexpr std::string_view nlohmann = "nlohmann::";
  if (name.starts_with(nlohmann)) {
    auto rest = name.substr(nlohmann.size());
    if (rest.starts_with("json_abi")) rest.erase(0, rest.find("::") + 2);
    if (rest.starts_with("detail::")) rest.replace(0, 8, "json::");
    name = std::string(nlohmann) + rest;
  }
  return name;
}

/// A JSON Pointer (`/items/1/qty`) as a reader writes a field: `items[1].qty`.
std::string field_of(std::string_view pointer) {
  std::string field;
  while (!pointer.empty() && pointer.front() == '/') {
    pointer.remove_prefix(1);
    const auto end = pointer.find('/');
    std::string token(pointer.substr(0, end));
    pointer = end == std::string_view::npos ? std::string_view() : pointer.substr(end);
    for (auto at = token.find("~1"); at != std::string::npos; at = token.find("~1", at + 1)) token.replace(at, 2, "/");
    for (auto at = token.find("~0"); at != std::string::npos; at = token.find("~0", at + 1)) token.replace(at, 2, "~");
    const bool index = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos;
    if (index && !field.empty()) {
      field += "[" + token + "]";
    } else {
      field += (field.empty() ? "" : ".") + token;
    }
  }
  return field;
}

}  // namespace

std::string exception_type_name(const std::exception& error) {
  const char* mangled = typeid(error).name();
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                                        &std::free);
  return readable_type_name(status == 0 && demangled ? std::string(demangled.get()) : std::string(mangled));
}

namespace detail {

std::string describe_json_error(std::string_view what) {
  // "[json.exception.type_error.302] (/id) type must be string, but is number"
  if (what.starts_with("[json.exception.")) {
    const auto end = what.find("] ");
    if (end != std::string_view::npos) what.remove_prefix(end + 2);
  }
  std::string field;
  if (what.starts_with("(/")) {  // the path JSON_DIAGNOSTICS adds
    const auto end = what.find(") ");
    if (end != std::string_view::npos) {
      field = field_of(what.substr(1, end - 1));
      what.remove_prefix(end + 2);
    }
  }
  std::string problem(what);
  constexpr std::string_view type_must_be = "type must be ", but_is = ", but is ";
  constexpr std::string_view key = "key '", not_found = "' not found";
  if (what.starts_with(type_must_be) && what.find(but_is) != std::string_view::npos) {
    const auto split = what.find(but_is);
    problem = "expected " + std::string(what.substr(type_must_be.size(), split - type_must_be.size())) + ", got " +
              std::string(what.substr(split + but_is.size()));
  } else if (what.starts_with(key) && what.ends_with(not_found)) {
    const auto name = what.substr(key.size(), what.size() - key.size() - not_found.size());
    field += (field.empty() ? "" : ".") + std::string(name);
    problem = "missing";
  }
  return field.empty() ? problem : "field \"" + field + "\": " + problem;
}

}  // namespace detail

}  // namespace kernel
