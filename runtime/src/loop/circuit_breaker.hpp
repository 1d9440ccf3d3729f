#pragma once
// The kernel-wide circuit breaker (KERNEL_BREAKER_*): a small state machine the loop feeds
// with each handler call's class and asks what to do. It knows nothing of Kafka, so it is
// tested on its own (tests/runtime/unit/circuit_breaker_test.cpp).
//
//   closed ──(threshold consecutive transient failures)──► open
//   open ──(cooldown elapsed)──► half_open: one message goes through as a probe
//   half_open ──(probe succeeds)──► closed, cooldown back to its first value
//   half_open ──(probe fails)──► open for twice as long, up to the cap
//
// A success, a permanent or a business error resets the count: the downstream answered.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kernel::detail {

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  /// The values are kernel_circuit_breaker_state's.
  enum class State : std::uint8_t { closed = 0, open = 1, half_open = 2 };

  /// `threshold` 0 turns the breaker off: it then stays closed whatever happens.
  CircuitBreaker(int threshold, std::chrono::milliseconds cooldown, std::chrono::milliseconds cooldown_max)
      : threshold_(std::max(0, threshold)),
        first_cooldown_(cooldown),
        cooldown_max_(std::max(cooldown, cooldown_max)),
        cooldown_(cooldown) {}

  bool enabled() const noexcept { return threshold_ > 0; }
  State state() const noexcept { return state_; }
  /// Not closed: failures now say nothing about the message, so they do not spend its retries.
  bool tripped() const noexcept { return state_ != State::closed; }
  /// While open: when the probe may go (half-open follows).
  Clock::time_point open_until() const noexcept { return open_until_; }
  /// The open period the next opening will last (doubled by each failed probe, capped).
  std::chrono::milliseconds cooldown() const noexcept { return cooldown_; }
  int consecutive_failures() const noexcept { return failures_; }
  std::uint64_t transitions() const noexcept { return transitions_; }

  /// A handler call failed for a passing reason (a `timeout` included). Returns the new state
  /// when this failure changed it.
  std::optional<State> transient_failure(Clock::time_point now) {
    if (!enabled()) return std::nullopt;
    switch (state_) {
      case State::closed:
        if (++failures_ < threshold_) return std::nullopt;
        return open(now);
      case State::open: return std::nullopt;  // calls started before it opened, finishing: already counted as an outage
      case State::half_open:
        // The probe failed: the next open period is twice as long, up to the cap.
        cooldown_ = std::min(cooldown_max_, cooldown_ * 2);
        return open(now);
    }
    return std::nullopt;
  }

  /// A handler call succeeded, or failed in a way that says the downstream answered
  /// (permanent, business). Returns the new state when this closed the circuit.
  std::optional<State> answered() {
    failures_ = 0;
    if (!enabled() || state_ == State::closed) return std::nullopt;
    // An answer while open comes from a call started before it opened; it closes the circuit
    // only as a probe, i.e. in half-open. While open, wait for the probe.
    if (state_ == State::open) return std::nullopt;
    state_ = State::closed;
    cooldown_ = first_cooldown_;
    probe_taken_ = false;
    ++transitions_;
    return state_;
  }

  /// Open past its cooldown: becomes half-open (returns the new state).
  std::optional<State> tick(Clock::time_point now) {
    if (state_ != State::open || now < open_until_) return std::nullopt;
    state_ = State::half_open;
    probe_taken_ = false;
    ++transitions_;
    return state_;
  }

  /// Half-open: true once, for the message that goes through as the probe.
  bool take_probe() noexcept {
    if (state_ != State::half_open || probe_taken_) return false;
    probe_taken_ = true;
    return true;
  }
  /// The probe could not run (its message was revoked): another may go.
  void probe_abandoned() noexcept { probe_taken_ = false; }

 private:
  State open(Clock::time_point now) {
    state_ = State::open;
    open_until_ = now + cooldown_;
    failures_ = 0;
    probe_taken_ = false;
    ++transitions_;
    return state_;
  }

  int threshold_;
  std::chrono::milliseconds first_cooldown_, cooldown_max_, cooldown_;
  State state_ = State::closed;
  int failures_ = 0;
  bool probe_taken_ = false;
  Clock::time_point open_until_{};
  std::uint64_t transitions_ = 0;
};

/// closed, open, half_open: /admin/status's `circuit` and the log lines' word.
constexpr std::string_view to_string(CircuitBreaker::State state) noexcept {
  switch (state) {
    case CircuitBreaker::State::closed: return "closed";
    case CircuitBreaker::State::open: return "open";
    case CircuitBreaker::State::half_open: return "half_open";
  }
  return "closed";
}

}  // namespace kernel::detail
