// Exactly-once delivery in the loop (KERNEL_DELIVERY=exactly_once, docs/exactly-once.md): the
// completed prefixes are committed in the producer's transaction instead of by the consumer,
// and an aborted transaction sends every assigned partition back to its last committed offset
// so its work is done again. The transaction itself is loop/transactions.{hpp,cpp}.
#include <algorithm>

#include "core/partition_list.hpp"
#include "log/logging.hpp"
#include "loop/kernel_loop.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"
#include "loop/transactions.hpp"

namespace kernel::detail {

bool KernelLoop::begin_transaction() {
  if (transaction_->begin()) return true;
  stop_on_fatal_error(producer_.get());
  return false;
}

bool KernelLoop::commit_transaction() {
  // Every message produced in this transaction must belong to an input whose offset it
  // commits: a crash after the commit must not leave an output visible whose input is then
  // handled again. So first let every output be acknowledged: each input handled so far then
  // completes, and the completed prefixes cover all of them (an input waiting for a retry has
  // produced nothing, and nothing after it has been handled).
  auto deadline = Clock::now() + std::min<milliseconds>(settings_.shutdown_timeout, milliseconds(10000));
  if (stop_deadline_) deadline = std::min(deadline, *stop_deadline_);
  if (exit_code_ == exit_code::software) return false;  // fenced or failed: nothing more can be sent
  wait_for_outputs(deadline);
  if (exit_code_ == exit_code::software) return false;
  if (pending_outputs_ > 0) {
    // An output failed (or was not acknowledged in time): in a transaction librdkafka then
    // refuses the commit anyway. Redo the work.
    log_->warn("{} not acknowledged before the transaction's commit; aborting it",
               count_of(pending_outputs_, "output"));
    return end_transaction(Transaction::Result::must_abort, nullptr);
  }
  auto offsets = committable_offsets(nullptr);
  const bool anything = transaction_->open() || offsets->cnt > 0;
  const auto result = transaction_->commit(offsets.get(), deadline);
  if (result == Transaction::Result::committed && anything && metrics_) metrics_->transactions(true).Increment();
  return end_transaction(result, offsets.get());
}

bool KernelLoop::end_transaction(Transaction::Result result, const rd_kafka_topic_partition_list_t* offsets) {
  switch (result) {
    case Transaction::Result::committed:
      if (offsets && offsets->cnt > 0) {
        for (int i = 0; i < offsets->cnt; ++i) {
          if (auto* partition = find_partition(offsets->elems[i].topic, offsets->elems[i].partition)) {
            partition->committed = std::max(partition->committed, offsets->elems[i].offset);
          }
        }
        if (metrics_) metrics_->commits().Increment();
      }
      return true;
    case Transaction::Result::must_abort:
    case Transaction::Result::aborted: {
      // Retire what the transaction covered first: aborting purges its unsent messages and
      // serves their delivery reports, which must find retired entries and give up.
      rewind_to_committed();
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
}

void KernelLoop::rewind_to_committed() {
  // Nothing handled since the last commit counts any more: every assigned partition starts
  // again from its committed offset with fresh bookkeeping. The old states are retired like
  // revoked ones, so the purged messages' delivery reports still find their entries.
  last_state_ = nullptr;
  std::vector<PartitionOffset> seeks;
  std::vector<PartitionOffset> resumes;
  for (auto& [key, state] : partitions_) {
    const auto target = state->committed >= 0 ? state->committed : state->start_offset;
    if (target < 0) continue;  // nothing received since it was assigned: nothing to redo
    auto fresh = std::make_unique<PartitionState>();
    fresh->topic = state->topic;
    fresh->partition = state->partition;
    fresh->metrics = state->metrics;
    fresh->retry_level = state->retry_level;
    fresh->committed = state->committed;
    fresh->start_offset = target;
    fresh->next_offset = target;
    // An operator's or the breaker's pause holds; a retry's and back-pressure's belonged to the
    // work that is dropped.
    for (const auto reason : {PauseReason::operator_, PauseReason::breaker}) {
      if (state->paused.has(reason)) fresh->paused.add(reason);
    }
    total_in_flight_ -= state->tracker.in_flight();
    drop_parked(*state);
    state->retry_message.reset();
    state->retry_entry = nullptr;
    state->retired = true;
    drop_resends(*state);
    if (state->tracker.pending_acks() > 0) retired_.push_back(std::move(state));
    if (!fresh->paused.any()) resumes.push_back({fresh->topic, fresh->partition});
    seeks.push_back({fresh->topic, fresh->partition, target});
    log_->info("{}[{}] starts again at {}, its last committed offset", fresh->topic, fresh->partition, target);
    state = std::move(fresh);
  }
  if (seeks.empty()) return;
  // Asynchronous (timeout 0): librdkafka 2.0.2 mistakes the unit of a blocking seek's timeout.
  // Messages fetched before the seek are discarded by librdkafka's version barrier.
  const auto list = make_partition_list(seeks);
  ErrorPtr error(rd_kafka_seek_partitions(consumer_.get(), list.get(), 0));
  if (error) log_->error("rewinding after an aborted transaction failed: {}", rd_kafka_error_string(error.get()));
  if (!resumes.empty() && !stop_deadline_)
    rd_kafka_resume_partitions(consumer_.get(), make_partition_list(resumes).get());
}

}  // namespace kernel::detail
