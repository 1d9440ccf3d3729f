// Partitions: commits, pauses by reason, back-pressure, and rebalances (assign, revoke).
#include "loop/kernel_loop.hpp"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <deque>
#include <thread>

#include "kernel/middleware.hpp"
#include "log/logging.hpp"
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
      text += (i ? "," : "") + std::to_string(partitions[i]);
    }
    text += ']';
  }
  return text.empty() ? "nothing" : text;
}

}  // namespace

void KernelLoop::commit_completed(bool synchronous) {
  for (auto& [key, partition] : partitions_) settle(*partition);  // anything a nested settle left
  PartitionListPtr offsets(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
  for (auto& [key, partition] : partitions_) {
    const auto offset = partition->tracker.commit_offset();
    if (offset && *offset > partition->committed) {
      rd_kafka_topic_partition_list_add(offsets.get(), partition->topic.c_str(), partition->partition)->offset = *offset;
    }
  }
  if (offsets->cnt == 0) return;
  const auto err = rd_kafka_commit(consumer_.get(), offsets.get(), synchronous ? 0 : 1);
  if (synchronous) on_commit(consumer_.get(), err, offsets.get(), this);
}

void KernelLoop::on_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                           void* opaque) {
  auto* self = static_cast<KernelLoop*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
  if (err) {
    // REBALANCE_IN_PROGRESS and friends: the next interval commits again.
    self->log_->debug("commit not accepted ({}); will retry", rd_kafka_err2str(err));
  } else if (self->metrics_) {
    self->metrics_->commits().Increment();
  }
  for (int i = 0; offsets && i < offsets->cnt; ++i) {
    const auto& tp = offsets->elems[i];
    if (tp.err || tp.offset < 0) continue;
    if (auto* partition = self->find_partition(tp.topic, tp.partition)) {
      partition->committed = std::max(partition->committed, tp.offset);
    }
  }
}

void KernelLoop::pause(PartitionState& partition, PauseReason reason) {
  const bool was_running = partition.paused == 0;
  partition.paused |= static_cast<std::uint8_t>(reason);
  if (!was_running) return;
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(), partition.partition);
  // librdkafka remembers the position after the last message we received and fetches
  // from there on resume; anything it had fetched beyond is discarded.
  rd_kafka_pause_partitions(consumer_.get(), list.get());
}

void KernelLoop::resume(PartitionState& partition, PauseReason reason) {
  partition.paused &= static_cast<std::uint8_t>(~static_cast<std::uint8_t>(reason));
  if (partition.paused != 0) return;
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(), partition.partition);
  rd_kafka_resume_partitions(consumer_.get(), list.get());
}

void KernelLoop::check_backpressure() {
  // Parked messages are bounded in bytes: past the budget, partitions that receive more are
  // paused (librdkafka drops what it prefetched for them and fetches again from after the
  // last parked message on resume).
  if (parked_bytes_ > parked_bytes_budget / 2) return;
  for (auto& [key, partition] : partitions_) {
    if (partition->paused & static_cast<std::uint8_t>(PauseReason::backpressure)) {
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
    if (self->operator_paused_) {
      // Partitions assigned while an operator pause holds start paused too.
      for (int i = 0; i < partitions->cnt; ++i) {
        if (auto* partition = self->find_partition(partitions->elems[i].topic, partitions->elems[i].partition)) {
          self->pause(*partition, PauseReason::operator_);
        }
      }
    }
    if (self->ops_ && !self->stopping()) self->ops_->set_phase(Phase::ready);  // before joined(): no window
    self->joined_.store(true);
  } else {
    self->revoke(partitions, rd_kafka_assignment_lost(rk));
    if (self->ops_ && rd_kafka_assignment_lost(rk)) self->ops_->set_phase(Phase::rejoining);  // /readyz 503 until assigned again
    if (cooperative) {
      ErrorPtr error(rd_kafka_incremental_unassign(rk, partitions));
      if (error) self->log_->error("unassign failed: {}", rd_kafka_error_string(error.get()));
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }
  if (self->metrics_) self->metrics_->rebalances().Increment();
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
    partitions_[{tp.topic, tp.partition}] = std::move(state);
  }
  log_->info("assigned {}", describe_partitions(partitions));
}

void KernelLoop::revoke(rd_kafka_topic_partition_list_t* partitions, bool lost) {
  last_state_ = nullptr;
  log_->info("{} {}", lost ? "lost" : "revoked", describe_partitions(partitions));
  if (!lost) {
    // Let outputs of the revoked partitions be acknowledged so their inputs can be committed
    // before another member takes over.
    const auto deadline = Clock::now() + std::min<milliseconds>(settings_.shutdown_timeout, milliseconds(10000));
    while (pending_outputs_ > 0 && Clock::now() < deadline) {
      rd_kafka_poll(producer_.get(), 10);
      resend_due();
    }
    PartitionListPtr offsets(rd_kafka_topic_partition_list_new(partitions->cnt));
    for (int i = 0; i < partitions->cnt; ++i) {
      auto* partition = find_partition(partitions->elems[i].topic, partitions->elems[i].partition);
      if (!partition) continue;
      const auto offset = partition->tracker.commit_offset();
      if (offset && *offset > partition->committed) {
        rd_kafka_topic_partition_list_add(offsets.get(), partition->topic.c_str(), partition->partition)->offset =
            *offset;
      }
    }
    if (offsets->cnt > 0) {
      const auto err = rd_kafka_commit(consumer_.get(), offsets.get(), 0);
      if (err) log_->warn("commit on revocation failed: {}", rd_kafka_err2str(err));
      else on_commit(consumer_.get(), err, offsets.get(), this);
    }
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    auto it = partitions_.find({partitions->elems[i].topic, partitions->elems[i].partition});
    if (it == partitions_.end()) continue;
    auto state = std::move(it->second);
    partitions_.erase(it);
    total_in_flight_ -= state->tracker.in_flight();
    total_parked_ -= state->parked.size();
    for (const auto& message : state->parked) parked_bytes_ -= message.value().size() + message.key().value_or("").size();
    state->parked.clear();  // not handled, not committed: the next owner gets them
    state->retry_message.reset();
    state->retry_entry = nullptr;
    // Delivery reports may still point into its entries.
    state->retired = true;
    if (state->tracker.pending_acks() > 0) retired_.push_back(std::move(state));
  }
}

}  // namespace kernel::detail
