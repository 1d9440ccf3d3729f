// The loop's side of committing: the strategy KERNEL_DELIVERY chose (commit_strategy.hpp),
// the view of its partitions and outputs the loop lends it, how it acts on a CommitResult,
// and the rewind after an aborted transaction.
#include <utility>
#include <vector>

#include "core/partition_list.hpp"
#include "loop/commit_strategy.hpp"
#include "loop/exactly_once_commits.hpp"
#include "loop/kernel_loop.hpp"
#include "loop/loop_internal.hpp"
#include "loop/offset_commits.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

class KernelLoop::CommitHostOfLoop final : public CommitHost {
 public:
  explicit CommitHostOfLoop(KernelLoop& loop) : loop_(loop) {}

  void each_partition(const std::function<void(PartitionState&)>& visit) override {
    for (auto& [key, partition] : loop_.table_.assigned()) visit(*partition);
  }
  PartitionState* find_partition(const char* topic, std::int32_t partition) override {
    return loop_.table_.find(topic, partition);
  }
  void settle(PartitionState& partition) override { loop_.settle(partition); }
  void wait_for_outputs(Clock::time_point deadline) override { loop_.wait_for_outputs(deadline); }
  int pending_outputs() const override { return loop_.output_.pending(); }
  bool failed() const override { return loop_.exit_code_ == exit_code::software; }
  std::optional<Clock::time_point> stop_deadline() const override { return loop_.stop_deadline_; }
  /// After an aborted transaction: every assigned partition starts again at its committed
  /// offset once `delay` has passed (paused for PauseReason::retry meanwhile). False when none
  /// had received anything since it was assigned.
  bool rewind_to_committed(std::chrono::milliseconds delay) override;
  void resume_rewound() override {
    for (auto& [key, partition] : loop_.table_.assigned()) {
      if (!std::exchange(partition->awaiting_redo, false)) continue;
      loop_.table_.resume(*partition, PauseReason::retry);  // unless an operator's or the breaker's pause holds
    }
  }
  void wake_at(Clock::time_point due) override { loop_.retries_.wake_at(due); }

 private:
  KernelLoop& loop_;
};

bool KernelLoop::CommitHostOfLoop::rewind_to_committed(std::chrono::milliseconds delay) {
  // Nothing handled since the last commit counts any more: every assigned partition starts
  // again from its committed offset with fresh bookkeeping, after `delay`. The old states are
  // retired like revoked ones, so the purged messages' delivery reports still find their entries.
  std::vector<PartitionOffset> seeks;
  // Calls waiting on the loop (a retry's backoff, a hold) are dropped with the rest; those
  // running on workers are discarded when they return (their partition state is retired).
  if (loop_.executor_) loop_.executor_->rewound();
  for (auto& [key, state] : loop_.table_.assigned()) {
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
    for (const auto reason : {PauseReason::operator_, PauseReason::breaker, PauseReason::fleet}) {
      if (state->paused.has(reason)) fresh->paused.add(reason);
    }
    // And each waits for the redo (held or not: it may be released before the redo is due).
    fresh->paused.add(PauseReason::retry);
    fresh->awaiting_redo = true;
    loop_.table_.release(*state);  // its in-flight, parked and waiting work is dropped and redone
    state->draining = true;
    CommitStrategy::undo_uncommitted(*state);  // the aborted transaction's work is redone from the committed offset
    state->lanes.drop_waiting();
    ExactlyOnceCommits::drop_held(*state);
    loop_.output_.drop_resends(*state);
    loop_.table_.retire(std::move(state));
    if (loop_.executor_) loop_.executor_->assigned(*fresh);
    seeks.push_back({fresh->topic, fresh->partition, target});
    loop_.log_->info("{}[{}] starts again at {}, its last committed offset, in {} ms", fresh->topic, fresh->partition,
                     target, delay.count());
    state = std::move(fresh);
  }
  if (seeks.empty()) return false;
  // Asynchronous (timeout 0): librdkafka 2.0.2 mistakes the unit of a blocking seek's timeout.
  // Messages fetched before the seek are discarded by librdkafka's version barrier. Paused
  // after the seek: a seek forgets the position a pause would otherwise resume from, so the
  // fetch starts at the committed offset when the redo resumes it.
  const auto list = make_partition_list(seeks);
  ErrorPtr error(rd_kafka_seek_partitions(loop_.consumer_.get(), list.get(), 0));
  if (error) loop_.log_->error("rewinding after an aborted transaction failed: {}", rd_kafka_error_string(error.get()));
  rd_kafka_pause_partitions(loop_.consumer_.get(), list.get());
  return true;
}

void KernelLoop::start_commits(std::unique_ptr<Transaction> transaction) {
  commit_host_ = std::make_unique<CommitHostOfLoop>(*this);
  if (transaction) {
    commits_ = std::make_unique<ExactlyOnceCommits>(*commit_host_, settings(), log_, metrics_, output_.producer(),
                                                    std::move(transaction));
  } else {
    commits_ = std::make_unique<OffsetCommits>(*commit_host_, settings(), log_, metrics_, consumer_.get(),
                                               consumer_queue_.get());
  }
}

bool KernelLoop::commit_answered(CommitResult result) {
  switch (result) {
    case CommitResult::done: return true;
    case CommitResult::refused: return false;
    case CommitResult::aborted:
      if (stop_deadline_) {
        log_->error("the last transaction was aborted while stopping: its inputs are handled again after a restart");
        if (exit_code_ == exit_code::ok) exit_code_ = exit_code::failure;
      }
      return false;
    case CommitResult::fatal:
      if (exit_code_ != exit_code::software) {
        fatal_reason_ = commits_->fatal_reason();
        log_->critical("{}; stopping: what was not committed is handled again by the next owner", fatal_reason_);
        exit_code_ = exit_code::software;
        request_stop();
      }
      return false;
  }
  return false;
}

std::size_t KernelLoop::outputs_ahead_of_commit() const noexcept {
  const auto* exactly_once = commits_ ? commits_->exactly_once() : nullptr;
  return exactly_once ? exactly_once->outputs_ahead_of_commit() : 0;
}

}  // namespace kernel::detail
