// Partitions: commits, pauses by reason, back-pressure, and rebalances (assign, revoke).
#include "loop/kernel_loop.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/partition_list.hpp"
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

PartitionListPtr KernelLoop::committable_offsets(const rd_kafka_topic_partition_list_t* only) {
  std::vector<PartitionOffset> offsets;
  offsets.reserve(partitions_.size());
  auto add = [&](PartitionState& partition) {
    settle(partition);  // anything a nested settle left
    const auto offset = partition.tracker.commit_offset();
    if (offset && *offset > partition.committed) offsets.push_back({partition.topic, partition.partition, *offset});
  };
  if (only) {
    for (int i = 0; i < only->cnt; ++i) {
      if (auto* partition = find_partition(only->elems[i].topic, only->elems[i].partition)) add(*partition);
    }
  } else {
    for (auto& [key, partition] : partitions_) add(*partition);
  }
  return make_partition_list(offsets);
}

bool KernelLoop::commit_completed(bool synchronous, const rd_kafka_topic_partition_list_t* only) {
  // Exactly-once: one transaction covers every partition, so all of them commit together.
  if (transaction_) return commit_transaction();
  auto offsets = committable_offsets(only);
  if (offsets->cnt == 0) return true;
  if (!synchronous) {
    // The result comes back through the consumer queue, served by rd_kafka_consumer_poll().
    rd_kafka_commit_queue(consumer_.get(), offsets.get(), consumer_queue_.get(), &KernelLoop::on_commit, this);
    return true;
  }
  // Without a queue the call blocks and hands on_commit the broker's answer per partition. A
  // plain rd_kafka_commit() would leave the per-partition errors of `offsets` unwritten.
  const auto err = rd_kafka_commit_queue(consumer_.get(), offsets.get(), nullptr, &KernelLoop::on_commit, this);
  if (err) return false;
  for (int i = 0; i < offsets->cnt; ++i) {
    const auto& tp = offsets->elems[i];
    const auto* partition = find_partition(tp.topic, tp.partition);
    if (partition && partition->committed < tp.offset) return false;  // refused for this partition
  }
  return true;
}

void KernelLoop::on_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                           void* opaque) {
  auto* self = static_cast<KernelLoop*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
  if (err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS || err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
      err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID) {
    // The group is rebalancing: commit again once it has finished. A commit sent meanwhile can
    // wait behind this member's JoinGroup on the coordinator connection and be answered with
    // the old generation's ILLEGAL_GENERATION, which librdkafka 2.0.2 takes for the loss of the
    // whole assignment (librdkafka issue 4059): the member drops every partition and redoes
    // all it handled since its last commit. Nothing was recorded, so the next commit tries again.
    self->log_->debug("commit not accepted ({}); will commit after the rebalance", rd_kafka_err2str(err));
    self->commits_held_ = true;
    self->commits_held_since_ = Clock::now();
    return;
  }
  if (err) {
    self->log_->debug("commit not accepted ({}); will retry", rd_kafka_err2str(err));
    return;
  }
  bool any = false;
  for (int i = 0; offsets && i < offsets->cnt; ++i) {
    const auto& tp = offsets->elems[i];
    if (tp.err) {
      self->log_->debug("commit of {}[{}]@{} not accepted ({}); will retry", tp.topic, tp.partition, tp.offset,
                        rd_kafka_err2str(tp.err));
      continue;
    }
    if (tp.offset < 0) continue;
    any = true;
    if (auto* partition = self->find_partition(tp.topic, tp.partition)) self->mark_committed(*partition, tp.offset);
  }
  if (any && self->metrics_) self->metrics_->commits().Increment();
}

std::string KernelLoop::uncommitted_summary() {
  auto offsets = committable_offsets(nullptr);
  std::string text;
  for (int i = 0; i < offsets->cnt; ++i) {
    const auto& tp = offsets->elems[i];
    const auto* partition = find_partition(tp.topic, tp.partition);
    text += fmt::format("{}{}[{}] offsets {}..{}", text.empty() ? "" : ", ", tp.topic, tp.partition,
                        partition && partition->committed >= 0 ? partition->committed : 0, tp.offset - 1);
  }
  return text;
}

void KernelLoop::pause(PartitionState& partition, PauseReason reason) {
  // A message's retry scheduled (not one the breaker holds): run() wakes up when it is due (a
  // batch's retry wakes it in retry_batch_later()).
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
    self->rejoin_follows_ = cooperative && !lost;
    if (self->ops_ && lost) self->ops_->set_phase(Phase::rejoining);  // /readyz 503 until assigned again
    if (cooperative) {
      ErrorPtr error(rd_kafka_incremental_unassign(rk, partitions));
      if (error) self->log_->error("unassign failed: {}", rd_kafka_error_string(error.get()));
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }
  if (self->metrics_) self->metrics_->rebalances().Increment();
  // Periodic commits wait while the member is between generations: from a revocation until
  // the assignment that ends the rebalance. Under the cooperative protocol a revocation is
  // followed by an assignment and then a further join, so the assignment right after a
  // revocation that was not a loss does not end it yet.
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->commits_held_ = self->rejoin_follows_;
    self->rejoin_follows_ = false;
  } else {
    self->commits_held_ = true;
  }
  if (self->commits_held_) self->commits_held_since_ = Clock::now();
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
    reserve_lanes_of_running_calls(*state);
    partitions_[{tp.topic, tp.partition}] = std::move(state);
  }
  log_->info("assigned {}", describe_partitions(partitions));
  resume_lost_progress(partitions);
}

void KernelLoop::resume_lost_progress(rd_kafka_topic_partition_list_t* partitions) {
  // Partitions this member lost and now has back: if the group's committed offset is still
  // below what the member had completed, everything between the two was handled here with
  // its outputs acknowledged, and no one has committed beyond it. Start there and commit it
  // rather than handle it all again. If the committed offsets cannot be read, start from them
  // as usual.
  if (lost_progress_.empty()) return;
  PartitionListPtr query(rd_kafka_topic_partition_list_new(partitions->cnt));
  for (int i = 0; i < partitions->cnt; ++i) {
    if (lost_progress_.count({partitions->elems[i].topic, partitions->elems[i].partition})) {
      rd_kafka_topic_partition_list_add(query.get(), partitions->elems[i].topic, partitions->elems[i].partition);
    }
  }
  if (query->cnt == 0) return;
  const auto timeout = std::min<milliseconds>(settings_.session_timeout, milliseconds(5000));
  const auto err = rd_kafka_committed(consumer_.get(), query.get(), static_cast<int>(timeout.count()));
  if (err) log_->warn("reading committed offsets failed ({}); lost partitions start from them", rd_kafka_err2str(err));
  for (int i = 0; i < query->cnt; ++i) {
    const auto& tp = query->elems[i];
    const auto it = lost_progress_.find({tp.topic, tp.partition});
    const auto progress = it->second;
    lost_progress_.erase(it);
    if (err || tp.err || progress <= tp.offset) continue;  // offset: RD_KAFKA_OFFSET_INVALID when none
    auto* partition = find_partition(tp.topic, tp.partition);
    rd_kafka_topic_partition_list_find(partitions, tp.topic, tp.partition)->offset = progress;
    partition->tracker.resume_at(progress);
    partition->committed = std::max<std::int64_t>(tp.offset, -1);
    log_->info("{}[{}] resumes at {}, where this member had completed it before it was lost ({})", tp.topic,
               tp.partition, progress,
               tp.offset >= 0 ? fmt::format("committed: {}", tp.offset) : std::string("nothing committed"));
  }
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
  if (workers_) finish_running_calls(deadline, partitions);
  for (int i = 0; transaction_ && i < partitions->cnt; ++i) {
    // Exactly-once: records held behind an input that will not be concluded here are not
    // produced (the next owner handles them again).
    if (auto* partition = find_partition(partitions->elems[i].topic, partitions->elems[i].partition)) {
      drop_held(*partition);
    }
  }
  wait_for_outputs(deadline, partitions);
  if (lost && transaction_) {
    // The generation is gone: the coordinator would refuse its offsets. Abort; the new owners
    // redo the lost partitions' work, this member the rest from its committed offsets.
    abort_transaction();
  } else if (lost) {
    for (int i = 0; i < partitions->cnt; ++i) {
      auto* partition = find_partition(partitions->elems[i].topic, partitions->elems[i].partition);
      const auto offset = partition ? partition->tracker.commit_offset() : std::nullopt;
      if (offset && *offset > partition->committed) {
        lost_progress_[{partition->topic, partition->partition}] = *offset;
      }
    }
  } else if (!commit_completed(true, partitions)) {
    log_->warn("commit on revocation refused; the next owner handles again from {}", uncommitted_summary());
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    auto it = partitions_.find({partitions->elems[i].topic, partitions->elems[i].partition});
    if (it == partitions_.end()) continue;
    auto state = std::move(it->second);
    partitions_.erase(it);
    total_in_flight_ -= state->tracker.in_flight();
    drop_parked(*state);  // not handled, not committed: the next owner gets them
    drop_batch(*state);   // likewise
    state->retry_message.reset();
    state->retry_entry = nullptr;
    state->retired = true;
    undo_uncommitted(*state);  // what was not committed is done again if it comes back here
    // The next owner produces them.
    output_.drop_resends(*state);
    // Delivery reports may still point into its entries.
    if (state->tracker.pending_acks() > 0 || state->lanes.running() > 0) retired_.push_back(std::move(state));
  }
}

}  // namespace kernel::detail
