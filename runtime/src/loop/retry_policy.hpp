#pragma once
// Exponential backoff with jitter (KERNEL_RETRY_*): the delays as a pure function of values
// (Backoff), and a small policy object that draws the jitter (RetryPolicy).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <random>

namespace kernel::detail {

struct Backoff {
  std::chrono::milliseconds initial{200}, max{30000};
  double multiplier = 2.0, jitter = 0.2;

  /// Delay before retry number `retry` (1 for the first retry). `draw`, in [0, 1), places it
  /// within the jitter: 0 takes (1 - jitter) of the delay, towards 1 (1 + jitter); never past max.
  std::chrono::milliseconds delay(int retry, double draw) const noexcept {
    const double base = static_cast<double>(initial.count()) * std::pow(multiplier, std::max(0, retry - 1));
    const double capped = std::min(base, static_cast<double>(max.count()));
    const double jittered = jitter > 0 ? capped * (1.0 - jitter + 2.0 * jitter * draw) : capped;
    return std::chrono::milliseconds(static_cast<long long>(std::min(jittered, static_cast<double>(max.count()))));
  }

  /// Delay before the next attempt after attempt `attempt` (1 for the first call) failed
  /// transiently, for one message and for a batch alike: the delay the handler asked for
  /// (TransientError::retry_after) when it did, within 0 and the cap, else the backoff of
  /// retry number `attempt`.
  std::chrono::milliseconds delay_after(std::optional<std::chrono::milliseconds> retry_after, int attempt,
                                        double draw) const noexcept {
    if (retry_after) return std::clamp(*retry_after, std::chrono::milliseconds(0), max);
    return delay(attempt, draw);
  }
};

class RetryPolicy {
 public:
  RetryPolicy(std::chrono::milliseconds initial, std::chrono::milliseconds max, double multiplier, double jitter)
      : backoff_{initial, max, multiplier, jitter} {}

  const Backoff& backoff() const noexcept { return backoff_; }
  /// Where the next delay falls within the jitter: uniform in [0, 1).
  double draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }
  /// Delay before retry number `retry` (1 for the first retry), jittered.
  std::chrono::milliseconds delay(int retry) { return backoff_.delay(retry, draw()); }

 private:
  Backoff backoff_;
  std::minstd_rand random_{std::random_device{}()};
};

}  // namespace kernel::detail
