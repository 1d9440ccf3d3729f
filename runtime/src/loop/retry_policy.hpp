#pragma once
// Exponential backoff with jitter, as a small policy object (KERNEL_RETRY_*).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "kernel/outcome.hpp"

namespace kernel::detail {

class RetryPolicy {
 public:
  RetryPolicy(std::chrono::milliseconds initial, std::chrono::milliseconds max, double multiplier, double jitter)
      : initial_(initial), max_(max), multiplier_(multiplier), jitter_(jitter) {}

  /// Delay before retry number `retry` (1 for the first retry).
  std::chrono::milliseconds delay(int retry) {
    const double base = static_cast<double>(initial_.count()) * std::pow(multiplier_, std::max(0, retry - 1));
    const double capped = std::min(base, static_cast<double>(max_.count()));
    std::uniform_real_distribution<double> spread(1.0 - jitter_, 1.0 + jitter_);
    const double jittered = jitter_ > 0 ? capped * spread(random_) : capped;
    return std::chrono::milliseconds(static_cast<long long>(std::min(jittered, static_cast<double>(max_.count()))));
  }

  /// Delay before the next attempt after attempt `attempt` (1 for the first call) failed with
  /// the transient `outcome`, for one message and for a batch alike: the delay the handler
  /// asked for (TransientError::retry_after) when it did, within 0 and the cap, else the
  /// backoff of retry number `attempt`.
  std::chrono::milliseconds delay_after(const Outcome& outcome, int attempt) {
    if (outcome.retry_after) return std::clamp(*outcome.retry_after, std::chrono::milliseconds(0), max_);
    return delay(attempt);
  }

 private:
  std::chrono::milliseconds initial_, max_;
  double multiplier_, jitter_;
  std::minstd_rand random_{std::random_device{}()};
};

}  // namespace kernel::detail
