// Exactly-once delivery in the loop (KERNEL_DELIVERY=exactly_once, docs/exactly-once.md): the
// completed prefixes are committed in the producer's transaction instead of by the consumer,
// and an aborted transaction sends every assigned partition back to its last committed offset
// so its work is done again. The transaction itself is loop/transactions.{hpp,cpp}.
#include <algorithm>
#include <utility>

#include "core/partition_list.hpp"
#include "log/logging.hpp"
#include "loop/kernel_loop.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"
#include "loop/produce_errors.hpp"
#include "loop/transactions.hpp"

namespace kernel::detail {

bool KernelLoop::begin_transaction() {
  if (transaction_->begin()) return true;
  stop_on_fatal_error(output_.producer());
  return false;
}

bool KernelLoop::commit_transaction() {
  // Every message produced in this transaction must belong to an input whose offset it
  // commits: a crash after the commit must not leave an output visible whose input is then
  // handled again. So first let every output be acknowledged: each input whose records were
  // produced then completes, and the completed prefixes cover all of them. On the loop thread
  // alone, an input waiting for a retry has produced nothing and nothing after it has been
  // handled. With workers, later offsets (other keys) are handled meanwhile, but their records
  // are held (must_hold()) until every offset below theirs is concluded: nothing produced
  // lies beyond an unfinished input.
  auto deadline = Clock::now() + std::min<milliseconds>(settings_.shutdown_timeout, milliseconds(10000));
  if (stop_deadline_) deadline = std::min(deadline, *stop_deadline_);
  if (exit_code_ == exit_code::software) return false;  // fenced or failed: nothing more can be sent
  wait_for_outputs(deadline);
  if (exit_code_ == exit_code::software) return false;
  if (transaction_failed_) return end_transaction(Transaction::Result::must_abort, nullptr);
  if (output_.pending() > 0) {
    // Not acknowledged in time: in a transaction librdkafka then refuses the commit anyway.
    // Redo the work.
    log_->warn("{} not acknowledged before the transaction's commit; aborting it",
               count_of(output_.pending(), "output"));
    return end_transaction(Transaction::Result::must_abort, nullptr);
  }
  auto offsets = committable_offsets(nullptr);
  check_commit_covers_outputs(offsets.get());
  const bool anything = transaction_->open() || offsets->cnt > 0;
  const auto result = transaction_->commit(offsets.get(), deadline);
  if (result == Transaction::Result::committed && anything && metrics_) metrics_->transactions(true).Increment();
  return end_transaction(result, offsets.get());
}

bool KernelLoop::end_transaction(Transaction::Result result, const rd_kafka_topic_partition_list_t* offsets) {
  switch (result) {
    case Transaction::Result::committed:
      for (auto& [key, partition] : partitions_) partition->produced_in_transaction = -1;
      if (offsets && offsets->cnt > 0) {
        aborts_in_a_row_ = 0;  // progress: the next abort's redo waits the first backoff again
        for (int i = 0; i < offsets->cnt; ++i) {
          if (auto* partition = find_partition(offsets->elems[i].topic, offsets->elems[i].partition)) {
            mark_committed(*partition, offsets->elems[i].offset);
          }
        }
        if (metrics_) metrics_->commits().Increment();
      }
      return true;
    case Transaction::Result::must_abort:
    case Transaction::Result::aborted: {
      transaction_failed_ = false;
      // The redo waits a backoff that grows with each abort in a row, as a failing dead-letter
      // write does under at-least-once: what failed (a broker away, a dead-letter topic that
      // refuses every write) would most likely fail again at once.
      ++aborts_in_a_row_;
      // Retire what the transaction covered first: aborting purges its unsent messages and
      // serves their delivery reports, which must find retired entries and give up.
      rewind_to_committed(retry_policy_.delay(aborts_in_a_row_));
      auto deadline = Clock::now() + std::min<milliseconds>(settings_.shutdown_timeout, milliseconds(10000));
      if (stop_deadline_) deadline = std::min(deadline, *stop_deadline_);
      if (result == Transaction::Result::must_abort && transaction_->abort(deadline) == Transaction::Result::fatal) {
        return end_transaction(Transaction::Result::fatal, nullptr);
      }
      if (metrics_) metrics_->transactions(false).Increment();
      if (stop_deadline_) {
        log_->error("the last transaction was aborted while stopping: its inputs are handled again after a restart");
        if (exit_code_ == exit_code::ok) exit_code_ = exit_code::failure;
      }
      return false;
    }
    case Transaction::Result::fatal:
      if (exit_code_ != exit_code::software) {
        fatal_reason_ = transaction_->fatal_reason();
        log_->critical("{}; stopping: what was not committed is handled again by the next owner", fatal_reason_);
        exit_code_ = exit_code::software;
        request_stop();
      }
      return false;
  }
  return false;
}

void KernelLoop::abort_transaction() {
  if (transaction_->open()) end_transaction(Transaction::Result::must_abort, nullptr);
  transaction_failed_ = false;
}

bool KernelLoop::transaction_record_failed(const rd_kafka_message_t& message, const Delivery& delivery) {
  auto& entry = *delivery.entry;
  const auto kind = classify_produce_error(message.err);
  if (entry.owner->retired || kind == ProduceErrorKind::fatal ||
      rd_kafka_fatal_error(output_.producer(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return false;
  }
  // Sending it again cannot help: librdkafka refuses to commit a transaction one of whose
  // messages failed. Given up (by the sender); nothing is committed before the abort, which redoes it.
  const auto* topic = rd_kafka_topic_name(message.rkt);
  if (!delivery.dead_letter && kind != ProduceErrorKind::passing) {
    // Refused for good: done again it would fail again, and every transaction with it. When
    // its input comes round again it is dead-lettered instead, as at-least-once does.
    entry.owner->undeliverable.try_emplace(entry.offset, fmt::format("{}: {}", topic, rd_kafka_err2str(message.err)));
  }
  if (delivery.dead_letter && kind == ProduceErrorKind::too_large) ++entry.owner->dead_letter_too_large[entry.offset];
  if (!transaction_failed_) {
    log_->warn("{} to {} of transaction {} not delivered ({}); aborting it: its work is done again",
               delivery.dead_letter ? "a dead letter" : "an output", topic, transaction_->id(),
               rd_kafka_err2str(message.err));
  }
  transaction_failed_ = true;
  return true;
}

bool KernelLoop::dead_letter_undeliverable(PartitionState& partition, InFlight& entry, const Message& input) {
  const auto it = partition.undeliverable.find(entry.offset);
  if (it == partition.undeliverable.end()) return false;
  const auto reason = std::move(it->second);
  partition.undeliverable.erase(it);
  if (partition.metrics) partition.metrics->count(HandledOutcome::dead_lettered);
  output_.dead_letter(partition, entry, input, "permanent", FailureReason::output_failed, "kernel::OutputError", reason,
                      entry.retries);
  return true;
}

void KernelLoop::rewind_to_committed(std::chrono::milliseconds delay) {
  // Nothing handled since the last commit counts any more: every assigned partition starts
  // again from its committed offset with fresh bookkeeping, after `delay`. The old states are
  // retired like revoked ones, so the purged messages' delivery reports still find their entries.
  last_state_ = nullptr;
  std::vector<PartitionOffset> seeks;
  // Calls waiting on the loop (a retry's backoff, a hold) are dropped with the rest; those
  // running on workers are discarded when they return (their partition state is retired).
  for (auto& call : waiting_calls_) abandon(*call);
  waiting_calls_.clear();
  for (auto& [key, state] : partitions_) {
    const auto target = state->committed >= 0 ? state->committed : state->start_offset;
    if (target < 0) continue;  // nothing received since it was assigned: nothing to redo
    auto fresh = std::make_unique<PartitionState>();
    fresh->topic = state->topic;
    fresh->partition = state->partition;
    fresh->metrics = state->metrics;
    fresh->retry_level = state->retry_level;
    fresh->committed = state->committed;
    fresh->undeliverable = std::move(state->undeliverable);
    fresh->dead_letter_too_large = std::move(state->dead_letter_too_large);
    std::erase_if(fresh->dead_letter_too_large, [&](const auto& refused) { return refused.first < target; });
    fresh->start_offset = target;
    fresh->next_offset = target;
    // An operator's or the breaker's pause holds; a retry's and back-pressure's belonged to the
    // work that is dropped.
    for (const auto reason : {PauseReason::operator_, PauseReason::breaker}) {
      if (state->paused.has(reason)) fresh->paused.add(reason);
    }
    // And each waits for the redo (held or not: it may be released before the redo is due).
    fresh->paused.add(PauseReason::retry);
    fresh->awaiting_redo = true;
    total_in_flight_ -= state->tracker.in_flight();
    drop_parked(*state);
    state->retry_message.reset();
    state->retry_entry = nullptr;
    state->retired = true;
    state->draining = true;
    undo_uncommitted(*state);  // the aborted transaction's work is redone from the committed offset
    state->lanes.drop_waiting();
    drop_held(*state);
    output_.drop_resends(*state);
    if (state->tracker.pending_acks() > 0 || state->lanes.running() > 0) retired_.push_back(std::move(state));
    reserve_lanes_of_running_calls(*fresh);
    seeks.push_back({fresh->topic, fresh->partition, target});
    log_->info("{}[{}] starts again at {}, its last committed offset, in {} ms", fresh->topic, fresh->partition, target,
               delay.count());
    state = std::move(fresh);
  }
  if (seeks.empty()) return;
  // Asynchronous (timeout 0): librdkafka 2.0.2 mistakes the unit of a blocking seek's timeout.
  // Messages fetched before the seek are discarded by librdkafka's version barrier. Paused
  // after the seek: a seek forgets the position a pause would otherwise resume from, so the
  // fetch starts at the committed offset when redo_when_due() resumes it.
  const auto list = make_partition_list(seeks);
  ErrorPtr error(rd_kafka_seek_partitions(consumer_.get(), list.get(), 0));
  if (error) log_->error("rewinding after an aborted transaction failed: {}", rd_kafka_error_string(error.get()));
  rd_kafka_pause_partitions(consumer_.get(), list.get());
  redo_due_ = Clock::now() + delay;
  wake_at(*redo_due_);
}

void KernelLoop::redo_when_due(Clock::time_point now) {
  if (!redo_due_ || stopping()) return;
  if (now < *redo_due_) {
    wake_at(*redo_due_);
    return;
  }
  redo_due_.reset();
  for (auto& [key, partition] : partitions_) {
    if (!std::exchange(partition->awaiting_redo, false)) continue;
    resume(*partition, PauseReason::retry);  // unless an operator's or the breaker's pause holds
  }
}

void KernelLoop::hold(Resend record) {
  // Still counted in its entry's pending_acks (its input is not complete), no longer in the
  // sender's pending records: a commit waits only for what was produced.
  auto& entry = *record.delivery->entry;
  entry.owner->held_records[entry.offset].push_back(std::move(record));
}

void KernelLoop::release_held(PartitionState& partition) {
  while (auto* entry = partition.tracker.first_from(partition.released_until)) {
    if (!entry->handled) return;                   // not concluded (running, waiting for a retry): what follows waits
    partition.released_until = entry->offset + 1;  // first: its records are produced directly from now on
    const auto it = partition.held_records.find(entry->offset);
    if (it == partition.held_records.end()) continue;
    auto records = std::move(it->second);
    partition.held_records.erase(it);
    for (auto& record : records) {
      output_.produce_held(record);
    }
  }
}

void KernelLoop::drop_held(PartitionState& partition) noexcept {
  for (auto& [offset, records] : partition.held_records) {
    for (const auto& record : records) --record.delivery->entry->pending_acks;
  }
  partition.held_records.clear();
}

void KernelLoop::check_commit_covers_outputs(const rd_kafka_topic_partition_list_t* offsets) {
  for (auto& [key, partition] : partitions_) {
    if (partition->produced_in_transaction < 0) continue;
    const auto* sent =
        offsets ? rd_kafka_topic_partition_list_find(offsets, partition->topic.c_str(), partition->partition) : nullptr;
    const auto covered = sent ? sent->offset : partition->committed;
    if (partition->produced_in_transaction < covered) continue;
    ++outputs_ahead_of_commit_;
    log_->error("{}[{}]: the transaction holds a record of input offset {}, which its commit ({}) does not cover",
                partition->topic, partition->partition, partition->produced_in_transaction, covered);
  }
}

}  // namespace kernel::detail
