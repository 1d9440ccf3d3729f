#pragma once
// How long run() may block in rd_kafka_consumer_poll(): the one place that decides when the
// loop wakes next. Work that comes back through librdkafka or the workers (outputs awaiting
// their delivery reports, resends, collected batch messages, calls on workers, which also end
// the poll early with rd_kafka_queue_yield) is served by short polls. Work of the loop's own
// that is due at a known time (an in-place retry or a retry topic's head, a batch's retry, a
// worker call's retry, a collected batch's KERNEL_BATCH_TIMEOUT) is already in memory, so
// nothing but this timeout stands between its due time and its run: the poll ends then.
#include <algorithm>
#include <chrono>

namespace kernel::detail {

/// What the loop is waiting for when it polls.
struct PollWait {
  using Clock = std::chrono::steady_clock;
  /// Work in progress that comes back by itself: outputs, resends, batches, worker calls.
  bool busy = false;
  /// The earliest of the loop's own work due at a known time; max() when none waits.
  Clock::time_point due = Clock::time_point::max();
};

inline constexpr int busy_poll_ms = 5;    ///< the longest poll while busy
inline constexpr int idle_poll_ms = 100;  ///< the longest poll otherwise

/// Milliseconds the poll may block from `now`: at most busy_poll_ms when busy, else
/// idle_poll_ms, and no longer than until `due`, rounded up (the loop wakes at or just after
/// it, never spinning before it); 0 once it has passed.
inline int poll_timeout(const PollWait& wait, PollWait::Clock::time_point now) noexcept {
  const int longest = wait.busy ? busy_poll_ms : idle_poll_ms;
  if (wait.due == PollWait::Clock::time_point::max()) return longest;
  const auto left = wait.due - now;
  if (left <= left.zero()) return 0;
  return static_cast<int>(std::min<long long>(std::chrono::ceil<std::chrono::milliseconds>(left).count(), longest));
}

}  // namespace kernel::detail
