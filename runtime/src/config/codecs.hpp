#pragma once
// The types of values (codecs.cpp): how a registry row reads, writes and checks its
// variable's text. Part of kernel_config; the rows (registry_rows.hpp) are written with it.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "config/settings.hpp"
#include "config/values.hpp"

namespace kernel::config_detail {

namespace codec {

/// How one type of value is read from the text a user writes, written back and checked.
template <typename T>
struct Codec {
  std::string type;  ///< as docs/configuration.md names it
  /// The value `text` spells, or what would be accepted.
  std::function<Parsed<T>(std::string_view text)> parse;
  std::function<std::string(const T& value)> format;
  std::vector<std::string> accepted = {};
  /// What is wrong with a value on its own, or ""; `example` is the variable's default.
  std::function<std::string(const T& value, std::string_view example)> check = {};
};

/// Text, trimmed; `type` names it in the docs ("string", "list").
Codec<std::string> text(std::string type = "string");
/// Passwords and tokens are kept exactly as given: a space may be part of one.
Codec<std::string> verbatim();
/// PEM, base64 of PEM or PEM with literal \n; `what` ("certificate") names it in errors.
Codec<std::string> pem(std::string what);
/// Comma-separated topic names, none empty; repeats are dropped.
Codec<std::vector<std::string>> topic_list();
Codec<bool> boolean();
/// A whole number of at least `minimum`; `meaning` says what it counts, in the error.
Codec<int> whole_number(long long minimum, std::string meaning);
enum class Zero { allowed, refused };
Codec<std::chrono::milliseconds> duration(Zero zero = Zero::allowed);
/// Comma-separated durations, each above 0 and none shorter than the one before (retry-topic delays).
Codec<std::vector<std::chrono::milliseconds>> rising_durations();
/// KERNEL_DEDUP_WINDOW: `COUNT,AGE`, `COUNT` or `AGE` (a bare whole number is the count); the
/// part left out is the one `fallback` (the registry's default, in the same form) gives.
Codec<DedupWindow> dedup_window(std::string_view fallback);
Codec<long long> size(Zero zero = Zero::allowed);
Codec<double> number(std::function<std::string(double, std::string_view)> check);
/// A port, 0 for a free one, or off (nullopt).
Codec<std::optional<int>> port();
/// A literal IP address: the server binds exactly what it is given, and a host name could
/// resolve to several addresses, or to none at the next start.
Codec<std::string> ip_address();
/// One of an enum's values, written in any case; `note` follows the list in the error.
template <typename E>
Codec<E> choice(std::string note = {});

/// The same type, with "" (unset) as a value of its own; a value that is set is checked as
/// the type checks it (a setting that is off by default is not a way around its range).
template <typename T>
Codec<std::optional<T>> optional_of(Codec<T> codec) {
  return {codec.type,
          [parse = codec.parse](std::string_view text) -> Parsed<std::optional<T>> {
            auto value = parse(text);
            if (!value) return parse_error(std::move(value).error());
            return std::optional<T>(std::move(*value));
          },
          [format = codec.format](const std::optional<T>& value) { return value ? format(*value) : std::string(); },
          codec.accepted,
          [check = codec.check](const std::optional<T>& value, std::string_view example) {
            if (!value || !check) return std::string();
            auto why = check(*value, example);
            return why.empty() ? why : why + ", or unset";
          }};
}

/// The codec with `check` as the constraint on a value.
template <typename T>
Codec<T> checked(Codec<T> codec, std::type_identity_t<std::function<std::string(const T&, std::string_view)>> check) {
  codec.check = std::move(check);
  return codec;
}

}  // namespace codec

}  // namespace kernel::config_detail
