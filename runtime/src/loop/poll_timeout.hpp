#pragma once
// How long the loop may block in rd_kafka_consumer_poll() when something of its own is due at
// a known time (a waiting retry): the message is already in memory, so nothing but this
// timeout stands between its due time and the handler's call.
#include <algorithm>
#include <chrono>

namespace kernel::detail {

/// Milliseconds from now until `due`, rounded up (the loop wakes at or just after it, never
/// spinning before it), 0 once it has passed, and at most `longest`.
inline int poll_timeout_until(std::chrono::steady_clock::time_point due, int longest) noexcept {
  const auto left = due - std::chrono::steady_clock::now();
  if (left <= left.zero()) return 0;
  return static_cast<int>(std::min<long long>(std::chrono::ceil<std::chrono::milliseconds>(left).count(), longest));
}

}  // namespace kernel::detail
