#include "loop/executor_host.hpp"

#include "loop/exactly_once_commits.hpp"
#include "loop/kernel_loop.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

ExecutorHost::Partitions& ExecutorHost::partitions() noexcept { return loop_->table_.assigned(); }

const std::vector<std::unique_ptr<PartitionState>>& ExecutorHost::retired() const noexcept {
  return loop_->table_.retired();
}

PartitionState* ExecutorHost::find_partition(const std::string& topic, std::int32_t partition) {
  return loop_->table_.find(topic.c_str(), partition);
}

int ExecutorHost::first_attempt(PartitionState& partition) { return loop_->retries_.level(partition) + 1; }

bool ExecutorHost::held(const PartitionState& partition) noexcept { return PartitionTable::held(partition); }

bool ExecutorHost::stopping() const noexcept { return loop_->stopping(); }

bool ExecutorHost::failed() const noexcept { return loop_->exit_code_ != exit_code::ok; }

void ExecutorHost::wake_at(Clock::time_point due) noexcept { loop_->retries_.wake_at(due); }

void ExecutorHost::pause_for_retry(PartitionState& partition) { loop_->table_.pause(partition, PauseReason::retry); }

void ExecutorHost::resume_after_retry(PartitionState& partition) {
  loop_->table_.resume(partition, PauseReason::retry);
}

Disposition ExecutorHost::disposition_of(PartitionState& partition, const Message& message, const Outcome& outcome,
                                         int attempt, bool count_in_breaker) {
  return loop_->disposition_of(partition, message, outcome, attempt, count_in_breaker);
}

void ExecutorHost::conclude(PartitionState& partition, InFlight& entry, Message& message, const Outcome& outcome,
                            int attempt, const Disposition& disposition, const std::vector<Outgoing>& outputs,
                            std::vector<CompletionHook>* on_completed) {
  loop_->conclude(partition, entry, message, outcome, attempt, disposition, outputs, on_completed);
}

void ExecutorHost::settle(PartitionState& partition) { loop_->settle(partition); }

void ExecutorHost::release_held(PartitionState& partition) {
  if (auto* exactly_once = loop_->commits_->exactly_once()) {
    exactly_once->release_held(partition, [this](Resend& record) { loop_->output_.produce_held(record); });
  }
}

void ExecutorHost::probe_abandoned() noexcept { loop_->breaker_.probe_abandoned(); }

}  // namespace kernel::detail
