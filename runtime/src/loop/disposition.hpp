#pragma once
// What an attempt's outcome means for its message, decided by one pure function of values:
// the loop asks decide() and carries the answer out (conclude.cpp). The whole table is written
// out in docs/failure-handling.md ("What an outcome means"); disposition_test.cpp reads it
// from there and checks decide() against every combination, so the two cannot drift apart.
#include <chrono>
#include <cstdint>
#include <optional>

#include "kernel/errors.hpp"
#include "loop/retry_policy.hpp"

namespace kernel::detail {

/// An outcome as the decision sees it: its kind, with a call that returned past
/// KERNEL_HANDLER_TIMEOUT (`late`) told apart from the other transient failures.
enum class OutcomeClass : std::uint8_t { success, business_error, permanent, transient, late, fatal };

/// The attempt that just ended.
struct Attempt {
  OutcomeClass outcome = OutcomeClass::success;
  int number = 1;  ///< 1 for the first call, as context.attempt()
  int origin = 0;  ///< where the message was read: 0 an input topic, n the retry topic `.retry.n`
  FailureReason reason = FailureReason::processing_error;  ///< a permanent failure's own reason
  std::optional<std::chrono::milliseconds> retry_after;    ///< TransientError::retry_after()
};

/// The settings that take part: KAFKA_CONSUMER_MAX_RETRIES, how many KERNEL_RETRY_TOPICS,
/// whether KAFKA_ERROR_TOPIC is set, and the KERNEL_RETRY_* backoff.
struct FailurePolicy {
  int max_retries = 3;
  int retry_topics = 0;  ///< 0: retries happen in place
  bool error_topic = false;
  Backoff backoff;
};

/// The circuit breaker once this outcome was counted (a failure may just have opened it).
enum class Circuit : std::uint8_t { closed, open };

struct Disposition {
  enum class Action : std::uint8_t {
    complete,                  ///< send the attempt's outputs
    complete_without_outputs,  ///< a business error: nothing is sent
    publish_to_error_topic,    ///< a business error, published on KAFKA_ERROR_TOPIC
    retry_in_place,            ///< runs again as `next_attempt` after `delay`, the message waiting
    hold_for_breaker,          ///< waits, its retries unspent, for the circuit to close (or to probe)
    move_to_retry_topic,       ///< produced to `.retry.<retry_topic>`
    dead_letter,               ///< with `reason`
    stop,                      ///< a fatal error: the kernel stops
  };
  Action action = Action::complete;
  int next_attempt = 0;                                    ///< retry_in_place, hold_for_breaker
  std::chrono::milliseconds delay{0};                      ///< retry_in_place
  int retry_topic = 0;                                     ///< move_to_retry_topic
  FailureReason reason = FailureReason::processing_error;  ///< dead_letter
  bool operator==(const Disposition&) const = default;
};

/// What `attempt` means under `policy` with the circuit `circuit`. `jitter_draw`, in [0, 1),
/// places an in-place retry's delay within the jitter: the caller draws it, so this stays pure.
Disposition decide(const Attempt& attempt, const FailurePolicy& policy, Circuit circuit, double jitter_draw) noexcept;

/// The message is done with as a success or a business error (what waited for that runs).
constexpr bool completes(const Disposition& disposition) noexcept {
  using enum Disposition::Action;
  const auto action = disposition.action;
  return action == complete || action == complete_without_outputs || action == publish_to_error_topic;
}

/// The message waits for another attempt where it is (the caller decides where it waits).
constexpr bool waits(const Disposition& disposition) noexcept {
  return disposition.action == Disposition::Action::retry_in_place ||
         disposition.action == Disposition::Action::hold_for_breaker;
}

}  // namespace kernel::detail
