// Partitions: commits, pauses by reason, back-pressure, and rebalances (assign, revoke).
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

void KernelLoop::pause(PartitionState& partition, PauseReason reason) {
  // A message's retry scheduled (not one the breaker holds): run() wakes up when it is due (a
  // batch's retry wakes it in BatchExecutor::retry_batch_later()).
  if (reason == PauseReason::retry && partition.retry_entry && !held(partition)) wake_at(partition.retry_due);
  const bool was_running = !partition.paused.any();
  partition.paused.add(reason);
  if (!was_running) return;
  const auto list = make_partition_list({{partition.topic, partition.partition}});
  // librdkafka remembers the position after the last message we received and fetches
  // from there on resume; anything it had fetched beyond is discarded.
  rd_kafka_pause_partitions(consumer_.get(), list.get());
}

void KernelLoop::resume(PartitionState& partition, PauseReason reason) {
  partition.paused.remove(reason);
  // No longer held (breaker closed, operator resume) with a retry waiting: it is due now or later.
  if (partition.retry_entry && !held(partition)) wake_at(partition.retry_due);
  if (partition.paused.any()) return;
  const auto list = make_partition_list({{partition.topic, partition.partition}});
  rd_kafka_resume_partitions(consumer_.get(), list.get());
}

void KernelLoop::check_backpressure() {
  // Parked messages are bounded in key and value bytes and in number: past
  // either, partitions that receive more are paused (librdkafka drops what it prefetched for
  // them and fetches again from after the last parked message on resume).
  if (parked_bytes_ > parked_bytes_budget / 2 || total_parked_ > max_parked_ / 2) return;
  for (auto& [key, partition] : partitions_) {
    if (partition->paused.has(PauseReason::backpressure)) {
      resume(*partition, PauseReason::backpressure);
    }
  }
}

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
    if (self->operator_paused_) {
      // Partitions assigned while an operator pause holds start paused too.
      for (int i = 0; i < partitions->cnt; ++i) {
        if (auto* partition = self->find_partition(partitions->elems[i].topic, partitions->elems[i].partition)) {
          self->pause(*partition, PauseReason::operator_);
        }
      }
    }
    self->breaker_hold_assigned(partitions);
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
  self->assignment_changed_ = true;
  self->publish_due_ = {};  // show the new assignment at once
  if (self->hooks_.on_assignment_changed) self->hooks_.on_assignment_changed();
}

void KernelLoop::assign(rd_kafka_topic_partition_list_t* partitions) {
  last_state_ = nullptr;
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& tp = partitions->elems[i];
    auto state = std::make_unique<PartitionState>();
    state->topic = tp.topic;
    state->partition = tp.partition;
    if (metrics_) state->metrics = &metrics_->input_topic(state->topic);  // found once, used per message
    if (executor_) executor_->assigned(*state);
    partitions_[{tp.topic, tp.partition}] = std::move(state);
  }
  log_->info("assigned {}", describe_partitions(partitions));
  commits_->assigned(partitions);  // lost partitions back: where they had got to
}

void KernelLoop::revoke(rd_kafka_topic_partition_list_t* partitions, bool lost) {
  last_state_ = nullptr;
  log_->info("{} {}", lost ? "lost" : "revoked", describe_partitions(partitions));
  // Let outputs of the revoked partitions be acknowledged so their inputs complete: committed
  // before another member takes over or, when the partitions were lost, remembered in case
  // they come back (a commit answered with a stale generation loses them all). Within the
  // stop's deadline when stopping.
  auto deadline = Clock::now() + std::min<milliseconds>(settings_.shutdown_timeout, milliseconds(10000));
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
    auto it = partitions_.find({partitions->elems[i].topic, partitions->elems[i].partition});
    if (it == partitions_.end()) continue;
    auto state = std::move(it->second);
    partitions_.erase(it);
    total_in_flight_ -= state->tracker.in_flight();
    drop_parked(*state);                     // not handled, not committed: the next owner gets them
    if (executor_) executor_->drop(*state);  // likewise
    state->retry_message.reset();
    state->retry_entry = nullptr;
    state->retired = true;
    CommitStrategy::undo_uncommitted(*state);  // what was not committed is done again if it comes back here
    output_.drop_resends(*state);              // the next owner produces them
    // Delivery reports may still point into its entries.
    if (state->tracker.pending_acks() > 0 || state->lanes.running() > 0) retired_.push_back(std::move(state));
  }
}

}  // namespace kernel::detail
