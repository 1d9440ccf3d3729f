#pragma once
// Why a partition is paused: one type for the loop (which sets and clears them), the metrics
// (kernel_partitions_paused{reason}) and /admin/status (each partition's `paused` list).
#include <array>
#include <cstdint>
#include <string_view>

namespace kernel::detail {

/// Each reason is set and cleared on its own, so one reason never resumes another's pause.
enum class PauseReason : std::uint8_t {
  retry,         ///< a message waits for its backoff
  operator_,     ///< an operator paused the kernel (admin)
  breaker,       ///< a circuit breaker is open
  backpressure,  ///< too many messages in flight
  fleet,         ///< a fleet-wide command of the control topic (kernel-admin pause)
};

inline constexpr std::array<PauseReason, 5> all_pause_reasons = {
    PauseReason::retry, PauseReason::operator_, PauseReason::breaker, PauseReason::backpressure, PauseReason::fleet};

/// The word /admin/status and the metric's `reason` label use: retry, operator, breaker,
/// backpressure, fleet.
constexpr std::string_view to_string(PauseReason reason) noexcept {
  switch (reason) {
    case PauseReason::retry: return "retry";
    case PauseReason::operator_: return "operator";
    case PauseReason::breaker: return "breaker";
    case PauseReason::backpressure: return "backpressure";
    case PauseReason::fleet: return "fleet";
  }
  return "retry";
}

/// Back-pressure is the loop's own flow control, not a pause an operator watches: it shows in
/// /admin/status but has no kernel_partitions_paused series.
constexpr bool counted_in_metrics(PauseReason reason) noexcept { return reason != PauseReason::backpressure; }

/// The set of reasons a partition is paused for.
class PauseReasons {
 public:
  constexpr void add(PauseReason reason) noexcept { bits_ |= bit(reason); }
  constexpr void remove(PauseReason reason) noexcept { bits_ &= static_cast<std::uint8_t>(~bit(reason)); }
  constexpr bool has(PauseReason reason) const noexcept { return (bits_ & bit(reason)) != 0; }
  constexpr bool any() const noexcept { return bits_ != 0; }
  constexpr bool operator==(const PauseReasons&) const noexcept = default;

 private:
  static constexpr std::uint8_t bit(PauseReason reason) noexcept {
    return static_cast<std::uint8_t>(1u << static_cast<unsigned>(reason));
  }
  std::uint8_t bits_ = 0;
};

}  // namespace kernel::detail
