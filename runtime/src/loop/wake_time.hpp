#pragma once
// When the loop's own next work is due (a retry, a retry topic's head, a batch's timeout or
// retry, a worker call's retry): run() polls no longer than until then (poll_timeout.hpp).
// Each housekeeping round starts it again at "never"; the parts that have work waiting add
// their due times during the round, and work scheduled in between adds itself.
#include <algorithm>
#include <chrono>

namespace kernel::detail {

class WakeTime {
 public:
  using Clock = std::chrono::steady_clock;

  /// Something is due at `due`.
  void at(Clock::time_point due) noexcept { next_ = std::min(next_, due); }
  /// The earliest due time told since the round began; max() when none.
  Clock::time_point next() const noexcept { return next_; }
  /// A housekeeping round begins: what is still waiting is told again.
  void begin_round() noexcept { next_ = Clock::time_point::max(); }

 private:
  Clock::time_point next_ = Clock::time_point::max();
};

}  // namespace kernel::detail
