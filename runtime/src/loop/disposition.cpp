#include "loop/disposition.hpp"

namespace kernel::detail {

Disposition decide(const Attempt& attempt, const FailurePolicy& policy, Circuit circuit, double jitter_draw) noexcept {
  using enum Disposition::Action;
  const auto dead_letter_with = [](FailureReason reason) {
    return Disposition{.action = dead_letter, .reason = reason};
  };
  switch (attempt.outcome) {
    case OutcomeClass::success: return {.action = complete};
    case OutcomeClass::business_error:
      return {.action = policy.error_topic ? publish_to_error_topic : complete_without_outputs};
    case OutcomeClass::permanent: return dead_letter_with(attempt.reason);
    case OutcomeClass::fatal: return {.action = stop};
    case OutcomeClass::transient:
    case OutcomeClass::late: break;
  }
  // A passing failure. While the circuit is open it is the outage's, not the message's: the
  // message waits with its retries unspent, so an outage parks nothing in the dead-letter topic.
  if (circuit == Circuit::open) return {.action = hold_for_breaker, .next_attempt = attempt.number};
  // Out of attempts: a last call that returned late says so.
  const auto exhausted = dead_letter_with(attempt.outcome == OutcomeClass::late ? FailureReason::timeout
                                                                                : FailureReason::retries_exhausted);
  if (policy.retry_topics > 0) {
    // Never in place: the next retry topic, after the last one the dead-letter topic.
    if (attempt.origin >= policy.retry_topics) return exhausted;
    return {.action = move_to_retry_topic, .retry_topic = attempt.origin + 1};
  }
  if (attempt.number > policy.max_retries) return exhausted;
  return {.action = retry_in_place,
          .next_attempt = attempt.number + 1,
          .delay = policy.backoff.delay_after(attempt.retry_after, attempt.number, jitter_draw)};
}

}  // namespace kernel::detail
