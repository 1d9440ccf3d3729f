// Rebalances: a partition assigned joins the table; one revoked has its outputs acknowledged
// and its offsets committed (or its transaction ended) before it leaves.
#include "loop/kernel_loop.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/partition_list.hpp"
#include "loop/commit_strategy.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

namespace {

std::string describe_partitions(const rd_kafka_topic_partition_list_t* list) {
  // orders[0,1,2] payments[3]
  std::map<std::string, std::vector<std::int32_t>> by_topic;
  for (int i = 0; i < list->cnt; ++i) by_topic[list->elems[i].topic].push_back(list->elems[i].partition);
  std::string text;
  for (auto& [topic, partitions] : by_topic) {
    std::sort(partitions.begin(), partitions.end());
    if (!text.empty()) text += ' ';
    text += topic + '[';
    for (std::size_t i = 0; i < partitions.size(); ++i) {
      if (i) text += ',';
      text += std::to_string(partitions[i]);
    }
    text += ']';
  }
  return text.empty() ? "nothing" : text;
}

}  // namespace

void KernelLoop::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                              void* opaque) {
  auto* self = static_cast<KernelLoop*>(opaque);
  const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
  bool rejoin_follows = false;  // a cooperative revocation: its assignment is followed by a join
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->assign(partitions);
    if (cooperative) {
      ErrorPtr error(rd_kafka_incremental_assign(rk, partitions));
      if (error) self->log_->error("assign failed: {}", rd_kafka_error_string(error.get()));
    } else {
      rd_kafka_assign(rk, partitions);
    }
    // librdkafka keeps its own pause flag across unassign and assign: a partition revoked
    // while paused (a retry, back-pressure) would never be fetched again when it comes back.
    // A new assignment starts running unless an operator pause holds (below).
    rd_kafka_resume_partitions(rk, partitions);
    if (self->status_.operator_paused()) {
      // Partitions assigned while an operator pause holds start paused too.
      for (int i = 0; i < partitions->cnt; ++i) {
        if (auto* partition = self->table_.find(partitions->elems[i].topic, partitions->elems[i].partition)) {
          self->table_.pause(*partition, PauseReason::operator_);
        }
      }
    }
    for (int i = 0; i < partitions->cnt; ++i) {
      // And those a fleet-wide pause holds.
      const auto& assigned = partitions->elems[i];
      if (!self->status_.fleet_holds(assigned.topic, assigned.partition)) continue;
      if (auto* partition = self->table_.find(assigned.topic, assigned.partition)) {
        self->table_.pause(*partition, PauseReason::fleet);
      }
    }
    self->breaker_.hold_assigned(partitions);
    if (self->ops_ && !self->stopping()) self->ops_->set_phase(Phase::ready);  // before joined(): no window
    self->joined_.store(true);
  } else {
    const bool lost = rd_kafka_assignment_lost(rk);
    self->revoke(partitions, lost);
    rejoin_follows = cooperative && !lost;
    if (self->ops_ && lost) self->ops_->set_phase(Phase::rejoining);  // /readyz 503 until assigned again
    if (cooperative) {
      ErrorPtr error(rd_kafka_incremental_unassign(rk, partitions));
      if (error) self->log_->error("unassign failed: {}", rd_kafka_error_string(error.get()));
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }
  if (self->metrics_) self->metrics_->rebalances().Increment();
  // Periodic commits wait while the member is between generations (commit_strategy.hpp).
  self->commits_->rebalanced(err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS, rejoin_follows, Clock::now());
  self->status_.assignment_changed();  // shown at once
  if (self->hooks_.on_assignment_changed) self->hooks_.on_assignment_changed();
}

void KernelLoop::assign(rd_kafka_topic_partition_list_t* partitions) {
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& tp = partitions->elems[i];
    auto state = std::make_unique<PartitionState>();
    state->topic = tp.topic;
    state->partition = tp.partition;
    if (metrics_) state->metrics = &metrics_->input_topic(state->topic);  // found once, used per message
    if (executor_) executor_->assigned(*state);
    table_.add(std::move(state));
  }
  log_->info("assigned {}", describe_partitions(partitions));
  commits_->assigned(partitions);  // lost partitions back: where they had got to
}

void KernelLoop::revoke(rd_kafka_topic_partition_list_t* partitions, bool lost) {
  log_->info("{} {}", lost ? "lost" : "revoked", describe_partitions(partitions));
  // Let outputs of the revoked partitions be acknowledged so their inputs complete: committed
  // before another member takes over or, when the partitions were lost, remembered in case
  // they come back (a commit answered with a stale generation loses them all). Within the
  // stop's deadline when stopping.
  auto deadline = Clock::now() + std::min<milliseconds>(settings().shutdown_timeout, milliseconds(10000));
  if (stop_deadline_) deadline = std::min(deadline, *stop_deadline_);
  // Their calls still running on workers return and are concluded first (nothing new of
  // them starts): a call's outputs are then produced and its offset committed below, or, past
  // the deadline, its result is discarded and the next owner handles it again.
  if (executor_) executor_->finish(deadline, partitions);
  commits_->revoking(partitions);
  wait_for_outputs(deadline, partitions);
  // Committed, or when lost remembered in case they come back (exactly-once aborts instead).
  if (!commit_answered(commits_->revoked(partitions, lost)) && !lost) {
    log_->warn("commit on revocation refused; the next owner handles again from {}", commits_->uncommitted_summary());
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    // Its parked messages and waiting retry are dropped: not handled, not committed, the next
    // owner gets them.
    auto state = table_.remove({partitions->elems[i].topic, partitions->elems[i].partition});
    if (!state) continue;
    if (executor_) executor_->drop(*state);    // likewise
    CommitStrategy::undo_uncommitted(*state);  // what was not committed is done again if it comes back here
    output_.drop_resends(*state);              // the next owner produces them
    table_.retire(std::move(state));           // delivery reports may still point into its entries
  }
}

}  // namespace kernel::detail
