// What both commit strategies share: when a periodic commit is due, the hold around
// rebalances, and what is committable.
#include "loop/commit_strategy.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/partition_list.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

CommitStrategy::CommitStrategy(CommitHost& host, const Settings& settings, std::shared_ptr<spdlog::logger> log,
                               KernelMetrics* metrics)
    : host_(host), settings_(settings), log_(std::move(log)), metrics_(metrics) {}

CommitResult CommitStrategy::commit_if_due(Clock::time_point now) {
  if (now < next_commit_) return CommitResult::done;
  auto result = CommitResult::done;
  if (!commits_held_ || now - commits_held_since_ >= settings_.rebalance_timeout) result = commit(false);
  next_commit_ = now + settings_.commit_interval;
  return result;
}

void CommitStrategy::rebalanced(bool assigned, bool rejoin_follows, Clock::time_point now) noexcept {
  // Periodic commits wait while the member is between generations: from a revocation until
  // the assignment that ends the rebalance. Under the cooperative protocol a revocation is
  // followed by an assignment and then a further join, so the assignment right after a
  // revocation that was not a loss does not end it yet.
  if (assigned) {
    commits_held_ = std::exchange(rejoin_follows_, false);
  } else {
    rejoin_follows_ = rejoin_follows;
    commits_held_ = true;
  }
  if (commits_held_) commits_held_since_ = now;
}

void CommitStrategy::hold_commits(Clock::time_point now) noexcept {
  commits_held_ = true;
  commits_held_since_ = now;
}

CommitStrategy::Clock::time_point CommitStrategy::wait_deadline() const {
  const auto deadline =
      Clock::now() + std::min<std::chrono::milliseconds>(settings_.shutdown_timeout, std::chrono::milliseconds(10000));
  const auto stop = host_.stop_deadline();
  return stop ? std::min(deadline, *stop) : deadline;
}

PartitionListPtr CommitStrategy::committable_offsets(const rd_kafka_topic_partition_list_t* only) {
  std::vector<PartitionOffset> offsets;
  auto add = [&](PartitionState& partition) {
    host_.settle(partition);  // anything a nested settle left
    const auto offset = partition.tracker.commit_offset();
    if (offset && *offset > partition.committed) offsets.push_back({partition.topic, partition.partition, *offset});
  };
  if (only) {
    for (int i = 0; i < only->cnt; ++i) {
      if (auto* partition = host_.find_partition(only->elems[i].topic, only->elems[i].partition)) add(*partition);
    }
  } else {
    host_.each_partition(add);
  }
  return make_partition_list(offsets);
}

std::string CommitStrategy::uncommitted_summary() {
  auto offsets = committable_offsets(nullptr);
  std::string text;
  for (int i = 0; i < offsets->cnt; ++i) {
    const auto& tp = offsets->elems[i];
    const auto* partition = host_.find_partition(tp.topic, tp.partition);
    text += fmt::format("{}{}[{}] offsets {}..{}", text.empty() ? "" : ", ", tp.topic, tp.partition,
                        partition && partition->committed >= 0 ? partition->committed : 0, tp.offset - 1);
  }
  return text;
}

void CommitStrategy::mark_committed(PartitionState& partition, std::int64_t offset) {
  partition.committed = std::max(partition.committed, offset);
  std::erase_if(partition.undo_until_committed, [&](const auto& undo) { return undo.first < partition.committed; });
}

void CommitStrategy::undo_uncommitted(PartitionState& partition) noexcept {
  for (auto& [offset, undo] : partition.undo_until_committed) undo();
  partition.undo_until_committed.clear();
}

}  // namespace kernel::detail
