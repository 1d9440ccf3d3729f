#pragma once
// The one timestamp format of the kernel: RFC 3339 UTC with milliseconds
// (2026-11-23T03:09:38.123Z), for the `timestamp` and `dlq-*-at` headers, log lines, JSON Lines
// output and the signal handler's line; and the one parser of RFC 3339 times the tools read.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kernel::detail {

inline constexpr std::size_t rfc3339_length = 24;

/// Writes exactly rfc3339_length characters (no terminator). Computes the civil date itself
/// rather than calling gmtime, so a signal handler may call it (async-signal-safe).
void format_rfc3339(std::int64_t epoch_ms, char* out) noexcept;
std::string format_rfc3339(std::int64_t epoch_ms);
/// The current wall-clock time, in epoch milliseconds (clock_gettime: async-signal-safe).
std::int64_t now_epoch_ms() noexcept;

/// An RFC 3339 time that cannot be read; what() names the text and what is wrong with it.
class Rfc3339Error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// An RFC 3339 date-time to epoch milliseconds: `2026-11-23T03:09:38Z`, with a fraction
/// (`.123456`: digits past the milliseconds are dropped), or with an offset (`+02:00`); `t`,
/// `z` and a space for `T` are accepted, as RFC 3339 allows. A zone is required: a local time
/// would be read differently on another machine. Fields are checked (month 13, February 30 and
/// 25:00 are refused); a leap second (`:60`) is read as the second after `:59`.
/// Throws Rfc3339Error naming what is wrong.
std::int64_t parse_rfc3339(std::string_view text);
/// parse_rfc3339(), nullopt when the text is not an RFC 3339 date-time.
std::optional<std::int64_t> try_parse_rfc3339(std::string_view text) noexcept;

}  // namespace kernel::detail
