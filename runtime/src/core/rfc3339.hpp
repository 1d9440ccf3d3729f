#pragma once
// The one timestamp format of the kernel: RFC 3339 UTC with milliseconds
// (2026-11-23T03:09:38.123Z), for the `timestamp` and `dlq-*-at` headers, log lines, JSON Lines
// output and the signal handler's line.
#include <cstddef>
#include <cstdint>
#include <string>

namespace kernel::detail {

inline constexpr std::size_t rfc3339_length = 24;

/// Writes exactly rfc3339_length characters (no terminator). Computes the civil date itself
/// rather than calling gmtime, so a signal handler may call it (async-signal-safe).
void format_rfc3339(std::int64_t epoch_ms, char* out) noexcept;
std::string format_rfc3339(std::int64_t epoch_ms);
/// The current wall-clock time, in epoch milliseconds (clock_gettime: async-signal-safe).
std::int64_t now_epoch_ms() noexcept;

}  // namespace kernel::detail
