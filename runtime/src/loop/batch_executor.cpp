// BatchExecutor, KernelSpec::batch_handler's call executor (docs/batches.md): messages are collected per partition, in
// offset order, and handed to the handler when KERNEL_BATCH_SIZE are there or KERNEL_BATCH_TIMEOUT after the first
// arrived. Each message is an in-flight entry from the moment it is collected, so commits never pass a message that is
// collected, running or waiting for its retry.
//
// What a call's outcome means is decide()'s (disposition.hpp), as for one message, with the
// breaker fed once per call: a whole batch that is to retry in place (or is held for the
// breaker) runs again as a batch, the partition paused meanwhile; any other outcome of the whole
// batch applies to each message (dead-lettered, moved to the next retry topic, ...). Messages
// failed one by one (Batch::fail) are decided on their own; those to retry in place run again
// together as a follow-up batch at the next attempt. Every other message's outcome goes through
// conclude(), as a single message's does.
#include "loop/batch_executor.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <prometheus/histogram.h>

#include "core/context_access.hpp"
#include "core/current_exception.hpp"
#include "log/logging.hpp"
#include "loop/handler_call.hpp"
#include "loop/partition_state.hpp"
#include "ops/kernel_metrics.hpp"
#include "ops/ops_state.hpp"

namespace kernel::detail {

namespace {

/// Context::produce() inside a batch handler has no message its output could belong to.
Outcome unattributed_output() {
  return Outcome::permanent(
      "Context::produce() in a batch handler: an output belongs to one message; use batch.produce(i, message)");
}

}  // namespace

BatchExecutor::BatchExecutor(ExecutorHost host, const KernelSpec& spec, const Settings& settings, Context& context,
                             std::shared_ptr<spdlog::logger> log, OpsState* ops, KernelMetrics* metrics)
    : host_(host),
      settings_(settings),
      context_(context),
      log_(std::move(log)),
      ops_(ops),
      batch_handler_(spec.batch_handler),
      transient_errors_(spec.transient_errors) {
  if (metrics) {
    batch_size_metric_ = &prometheus::BuildHistogram()
                              .Name("kernel_batch_size")
                              .Help("Messages per batch_handler call")
                              .Register(metrics->registry())
                              .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000,
                                                                               2500, 5000, 10000});
  }
}

Handler one_message_batch(BatchHandler handler, TransientTypes transient) {
  auto types = std::make_shared<const TransientTypes>(std::move(transient));
  return [handler = std::move(handler), types](const Message& message, Context& context) -> Outcome {
    Batch batch(std::span<const Message>(&message, 1), context, types.get());
    handler(batch, context);  // an exception fails the call: the chain makes the Outcome
    if (batch.failed(0)) return batch.outcome(0);
    if (!context.produced().empty()) return unattributed_output();
    auto& produced = ContextAccess::produced(context);
    produced = batch.outputs(0);
    return Outcome::success();
  };
}

bool BatchExecutor::may_hand_over(const PartitionState& partition) const noexcept {
  return !partition.retry_entry && partition.batch.retrying.empty() && !ExecutorHost::held(partition);
}

bool BatchExecutor::collect(PartitionState& partition, InFlight& entry, Message& message) {
  auto& batch = partition.batch;
  if (batch.collected.empty()) batch.first_at = Clock::now();
  batch.collected.push_back(std::move(message), &entry);
  ++collected_messages_;
  const auto size = static_cast<std::size_t>(settings_.batch_size);
  if (batch.collected.size() >= size && may_hand_over(partition) && !host_.failed()) {
    auto full = batch.collected.take_front(size);
    collected_messages_ -= full.size();
    if (!batch.collected.empty()) batch.first_at = Clock::now();
    run_batch(partition, std::move(full), host_.first_attempt(partition));
  }
  if (!batch.collected.empty() && may_hand_over(partition)) host_.wake_at(batch.first_at + settings_.batch_timeout);
  return true;
}

CallExecutor::Clock::time_point BatchExecutor::tick(Clock::time_point now) {
  auto next_due = Clock::time_point::max();
  const auto size = static_cast<std::size_t>(settings_.batch_size);
  for (auto& [key, state] : host_.partitions()) {
    auto& partition = *state;
    auto& batch = partition.batch;
    const bool held = ExecutorHost::held(partition);
    if (!batch.retrying.empty()) {
      if (now < batch.retry_due || host_.stopping() || held || host_.failed()) {
        if (now < batch.retry_due && !held) next_due = std::min(next_due, batch.retry_due);
        continue;
      }
      auto again = std::exchange(batch.retrying, {});
      run_batch(partition, std::move(again), batch.retry_attempt);
      if (!batch.retrying.empty()) continue;  // failed again: waits longer
      if (!partition.retry_entry) host_.resume_after_retry(partition);
    }
    while (!batch.collected.empty() && may_hand_over(partition) && !host_.failed() &&
           (batch.collected.size() >= size || now - batch.first_at >= settings_.batch_timeout)) {
      auto next = batch.collected.take_front(size);
      collected_messages_ -= next.size();
      if (!batch.collected.empty()) batch.first_at = now;
      run_batch(partition, std::move(next), host_.first_attempt(partition));
    }
    if (!batch.collected.empty() && may_hand_over(partition)) {
      next_due = std::min(next_due, batch.first_at + settings_.batch_timeout);
    }
  }
  return next_due;
}

Outcome BatchExecutor::call_batch_handler(const PartitionState& partition, Batch& batch) {
  const auto started = Clock::now();
  const auto& timeout = settings_.handler_timeout;
  if (timeout) {
    ContextAccess::set_deadline(context_, started + *timeout);
    if (ops_) {
      ops_->call_started(started, fmt::format("{}[{}]@{}..{}", partition.topic, partition.partition, batch[0].offset(),
                                              batch[batch.size() - 1].offset()));
    }
  }
  Outcome outcome;
  try {
    batch_handler_(batch, context_);
  } catch (...) {
    outcome = outcome_of_current_exception(transient_errors_);
  }
  if (timeout) {
    if (ops_) ops_->call_ended();
    ContextAccess::set_deadline(context_, std::nullopt);
  }
  const auto took = Clock::now() - started;
  if (partition.metrics) partition.metrics->duration->Observe(std::chrono::duration<double>(took).count());
  if (!timeout || took <= *timeout || outcome.kind == Outcome::Kind::fatal) return outcome;
  // As for one message: a call that returns late failed (transiently), its outputs discarded.
  outcome = Outcome::transient(
      fmt::format("the batch handler returned after {} ms, past KERNEL_HANDLER_TIMEOUT ({} ms); its outputs were "
                  "discarded",
                  std::chrono::duration_cast<milliseconds>(took).count(), timeout->count()),
      std::string(handler_timeout_type));
  outcome.reason = FailureReason::timeout;
  return outcome;
}

void BatchExecutor::run_batch(PartitionState& partition, BatchMessages batch, int attempt) {
  const auto count = batch.size();
  if (count == 0) return;
  if (batch_size_metric_) batch_size_metric_->Observe(static_cast<double>(count));
  ScopedLogContext scope(partition.topic, partition.partition, batch.messages.front().offset());
  ContextAccess::begin_attempt(context_, attempt);
  Batch call(batch.messages, context_, &transient_errors_);
  Outcome whole = call_batch_handler(partition, call);
  if (whole.kind != Outcome::Kind::fatal) {
    if (!context_.produced().empty()) {
      whole = unattributed_output();
    } else if (const auto& refused = ContextAccess::produce_refusal(context_); !refused.message.empty()) {
      whole = refused.outcome();  // Context::produce() to a refused topic, or a schema not registered
    }
  }
  // kernel_messages_handled_total: conclude() counts what it decides; a retry decided here
  // (the batch again, or a follow-up batch) is counted here.
  auto count_retried = [&](std::size_t messages, FailureReason reason) {
    if (!partition.metrics) return;
    for (std::size_t i = 0; i < messages; ++i) partition.metrics->count_retry(reason);
  };
  const auto first = batch.messages.front().offset();
  const auto last = batch.messages.back().offset();

  // What the call's outcome means, counted once in the breaker for the whole call. A whole
  // batch that waits (in place, or held for the breaker) runs again as a batch.
  const auto whole_disposition = host_.disposition_of(partition, batch.messages.front(), whole, attempt, true);
  if (waits(whole_disposition)) {
    // Held for the breaker, it runs as the probe once the partitions resume.
    if (whole_disposition.action == Disposition::Action::retry_in_place) {
      log_->warn("transient error in the batch {}[{}]@{}..{} ({}, attempt {} of {}), retrying it in {} ms: {}",
                 partition.topic, partition.partition, first, last, count_of(count, "message"), attempt,
                 settings_.max_retries + 1, whole_disposition.delay.count(), whole.message);
    }
    count_retried(count, whole.reason);
    retry_batch_later(partition, std::move(batch), whole_disposition.next_attempt, whole_disposition.delay);
    return;
  }
  if (whole.kind != Outcome::Kind::success && whole.kind != Outcome::Kind::fatal) {
    log_->warn("{} in the batch {}[{}]@{}..{}, applied to each of its {}: {}", to_string(whole.kind), partition.topic,
               partition.partition, first, last, count_of(count, "message"), whole.message);
  }

  static const std::vector<Outgoing> no_outputs;
  BatchMessages again;  // failed transiently one by one: a follow-up batch at the next attempt
  std::optional<milliseconds> again_delay;
  for (std::size_t i = 0; i < count; ++i) {
    auto& message = batch.messages[i];
    auto& entry = *batch.entries[i];
    // A whole call's outcome means the same for each of its messages; one message's own is
    // decided alone (the breaker counted the call, which returned).
    const Outcome outcome = whole.ok() ? call.outcome(i) : whole;
    const auto disposition =
        whole.ok() ? host_.disposition_of(partition, message, outcome, attempt, false) : whole_disposition;
    if (disposition.action == Disposition::Action::retry_in_place) {
      again_delay = std::max(again_delay.value_or(milliseconds(0)), disposition.delay);
      log_->warn("transient error at {}[{}]@{} in a batch (attempt {} of {}), retrying it in {} ms: {}",
                 partition.topic, partition.partition, message.offset(), attempt, settings_.max_retries + 1,
                 disposition.delay.count(), outcome.message);
      count_retried(1, outcome.reason);
      again.push_back(std::move(message), &entry);
      continue;
    }
    host_.conclude(partition, entry, message, outcome, attempt, disposition,
                   outcome.ok() ? call.outputs(i) : no_outputs);
    if (disposition.action == Disposition::Action::stop) return;  // the rest stays uncommitted
    // Kept in case an output fails for good (dead-lettered then).
    if ((entry.pending_acks > 0 || entry.output_failed) && !entry.input) entry.input.emplace(std::move(message));
  }
  if (!again.empty()) retry_batch_later(partition, std::move(again), attempt + 1, *again_delay);
  host_.settle(partition);
}

void BatchExecutor::retry_batch_later(PartitionState& partition, BatchMessages batch, int attempt, milliseconds delay) {
  auto& state = partition.batch;
  state.retrying = std::move(batch);
  state.retry_attempt = attempt;
  state.retry_due = Clock::now() + delay;
  host_.pause_for_retry(partition);
  if (!ExecutorHost::held(partition)) host_.wake_at(state.retry_due);
}

void BatchExecutor::hand_over_collected() {
  const auto size = static_cast<std::size_t>(settings_.batch_size);
  for (auto& [key, state] : host_.partitions()) {
    auto& partition = *state;
    auto& batch = partition.batch;
    // Collected behind a retry or while held, they would be handled out of turn: dropped.
    while (!batch.collected.empty() && may_hand_over(partition) && !host_.failed()) {
      auto next = batch.collected.take_front(size);
      collected_messages_ -= next.size();
      run_batch(partition, std::move(next), host_.first_attempt(partition));
    }
    drop(partition);  // what waits for a retry is not finished: delivered again
  }
}

void BatchExecutor::drop(PartitionState& partition) noexcept {
  collected_messages_ -= partition.batch.collected.size();
  partition.batch.clear();
}

}  // namespace kernel::detail
