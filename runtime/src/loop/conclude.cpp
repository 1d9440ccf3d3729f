// Carrying out what an attempt's outcome means. decide() (disposition.hpp) says what it means;
// here the loop feeds the breaker with the outcome first (its state is one of decide()'s
// facts), then does what was decided: sends the outputs, publishes a business error, moves the
// message to a retry topic, dead-letters it, or stops. A message that waits for another attempt
// waits where its caller keeps it: the partition's retry slot for a call on the loop thread
// (RetryScheduler::keep()), its key's lane for a worker's call, the batch for a batch.
#include "core/rfc3339.hpp"
#include "core/trace_context.hpp"
#include "log/logging.hpp"
#include "loop/handler_call.hpp"
#include "loop/kernel_loop.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

namespace {

OutcomeClass class_of(const Outcome& outcome, bool late) noexcept {
  switch (outcome.kind) {
    case Outcome::Kind::success: return OutcomeClass::success;
    case Outcome::Kind::business: return OutcomeClass::business_error;
    case Outcome::Kind::permanent: return OutcomeClass::permanent;
    case Outcome::Kind::transient: return late ? OutcomeClass::late : OutcomeClass::transient;
    case Outcome::Kind::fatal: return OutcomeClass::fatal;
  }
  return OutcomeClass::permanent;
}

/// For /admin/status: where the attempt failed, how, when, and in which trace. Failures only:
/// nothing of this runs for a success.
void record_failure(FailureRecord& record, const PartitionState& partition, const Message& message,
                    const Outcome& outcome) {
  record.topic = partition.topic;
  record.partition = partition.partition;
  record.offset = message.offset();
  record.error_class = to_string(outcome.kind);
  record.reason = to_string(outcome.reason);
  record.trace_id = handling_trace_of(message).trace.trace_id();
  record.at_ms = now_epoch_ms();
}

}  // namespace

Disposition KernelLoop::disposition_of(PartitionState& partition, const Message& message, const Outcome& outcome,
                                       int attempt, bool count_in_breaker) {
  auto circuit = Circuit::closed;
  if (count_in_breaker) {
    if (outcome.kind == Outcome::Kind::transient) {
      if (breaker_.failed(partition, message)) circuit = Circuit::open;
    } else if (outcome.kind != Outcome::Kind::fatal) {
      breaker_.answered();  // the downstream answered
    }
  }
  // Only a transient failure is late or waits a jittered delay: a success, the per-message
  // case, draws no random number and compares no error type.
  const bool transient = outcome.kind == Outcome::Kind::transient;
  const Attempt ended{class_of(outcome, transient && handler_timed_out(outcome)), attempt, retries_.level(partition),
                      outcome.reason, outcome.retry_after};
  const FailurePolicy policy{settings().max_retries, retries_.retry_topics(), settings().error_topic.has_value(),
                             retries_.policy().backoff()};
  return decide(ended, policy, circuit, transient ? retries_.policy().draw() : 0.0);
}

void KernelLoop::conclude(PartitionState& partition, InFlight& entry, Message& message, const Outcome& outcome,
                          int attempt, const Disposition& disposition, const std::vector<Outgoing>& outputs,
                          std::vector<CompletionHook>* on_completed) {
  using Action = Disposition::Action;
  entry.retries = attempt - 1;
  if (outcome.kind != Outcome::Kind::success) record_failure(status_.last_failure(), partition, message, outcome);
  if (on_completed) {
    // Decided here and nowhere earlier: the chain's success may have been overruled since.
    if (completes(disposition)) {
      for (auto& hook : *on_completed) {
        hook.complete();
        if (hook.undo) partition.undo_until_committed.emplace_back(entry.offset, std::move(hook.undo));
      }
    }
    on_completed->clear();
  }
  // kernel_messages_handled_total: what this attempt led to (KernelMetrics::count_outcomes_in_loop).
  const auto count = [&partition](HandledOutcome counted) {
    if (partition.metrics) partition.metrics->count(counted);
  };
  // kernel_retries_total by the failure's reason, counted with the retried outcome.
  const auto count_retry = [&partition, &outcome] {
    if (partition.metrics) partition.metrics->count_retry(outcome.reason);
  };
  switch (disposition.action) {
    case Action::complete:
      count(HandledOutcome::success);
      for (const auto& output : outputs) output_.send_output(output, message, entry, attempt);
      entry.handled = true;
      return;
    case Action::complete_without_outputs:
    case Action::publish_to_error_topic:
      log_->warn("business error at {}[{}]@{}: {}", partition.topic, partition.partition, message.offset(),
                 outcome.message);
      entry.handled = true;
      count(HandledOutcome::business_error);
      if (disposition.action == Action::publish_to_error_topic) {
        output_.publish_business_error(partition, entry, message, outcome, attempt - 1);
      }
      return;
    case Action::hold_for_breaker: count_retry(); return;
    case Action::retry_in_place:
      log_->warn("transient error at {}[{}]@{} (attempt {} of {}), retrying in {} ms: {}", partition.topic,
                 partition.partition, message.offset(), attempt, settings().max_retries + 1, disposition.delay.count(),
                 outcome.message);
      count_retry();
      return;
    case Action::move_to_retry_topic:
      count_retry();
      retries_.move_to_retry_topic(output_, partition, entry, message, outcome, attempt, disposition.retry_topic);
      return;
    case Action::dead_letter:
      count(HandledOutcome::dead_lettered);
      output_.dead_letter(partition, entry, message,
                          outcome.kind == Outcome::Kind::transient ? "transient" : "permanent", disposition.reason,
                          outcome.error_type, outcome.message, attempt - 1);
      return;
    case Action::stop:
      log_->critical("fatal error at {}[{}]@{}: {}; stopping", partition.topic, partition.partition, message.offset(),
                     outcome.message);
      fatal_reason_ = outcome.message;
      exit_code_ = exit_code::failure;
      request_stop();
      return;
  }
}

}  // namespace kernel::detail
