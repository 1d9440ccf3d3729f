// The loop's side of operations: what it publishes for the HTTP server (liveness, readiness,
// status, gauges) and the operator pause it applies. Everything here runs on the loop thread
// and never waits for the server.
#include <algorithm>
#include <array>
#include <chrono>

#include "log/logging.hpp"
#include "loop/kernel_loop.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

void KernelLoop::apply_operator_pause() {
  operator_generation_ = ops_->requested_generation();
  const bool wanted = ops_->operator_pause_wanted();
  if (wanted != operator_paused_) {
    operator_paused_ = wanted;
    for (auto& [key, partition] : partitions_) {
      if (wanted) {
        pause(*partition, PauseReason::operator_);
      } else {
        resume(*partition, PauseReason::operator_);
      }
    }
    if (wanted && executor_) executor_->hold();  // running calls finish; none queued for a worker starts
    log_->warn("{} by an operator ({})", wanted ? "paused" : "resumed", count_of(partitions_.size(), "partition"));
    publish_due_ = {};  // show it at once
  }
  ops_->acknowledge(operator_generation_);
}

void KernelLoop::publish_status(std::chrono::steady_clock::time_point now) {
  publish_due_ = now + std::chrono::milliseconds(200);
  if (!cluster_watch_) cluster_watch_ = std::make_unique<ClusterWatch>(consumer_.get(), *ops_);
  cluster_watch_->begin_round();
  auto& snapshot = status_;
  snapshot.partitions.resize(partitions_.size());  // keeps the strings' storage
  std::array<int, all_pause_reasons.size()> paused{};
  std::size_t i = 0;
  for (auto& [key, partition] : partitions_) {
    auto& status = snapshot.partitions[i++];
    status.topic = partition->topic;
    status.partition = partition->partition;
    status.position = partition->next_offset;
    status.committed = partition->committed;
    status.in_flight = partition->tracker.in_flight();
    status.parked = partition->parked.size();
    status.paused = partition->paused;
    // The consumer's cached watermarks, from its last fetch response: no request. A paused
    // partition has no fetches: ClusterWatch asks the broker for it, off this thread.
    std::int64_t low = -1, high = -1;
    rd_kafka_get_watermark_offsets(consumer_.get(), partition->topic.c_str(), partition->partition, &low, &high);
    if (partition->paused.any()) {
      cluster_watch_->watch(partition->topic, partition->partition);
      if (const auto asked = cluster_watch_->latest(partition->topic, partition->partition)) {
        low = std::max(low, asked->low);
        high = std::max(high, asked->high);
      }
    }
    status.low_watermark = low < 0 ? -1 : low;
    status.high_watermark = high < 0 ? -1 : high;
    const auto base = partition->committed >= 0 ? partition->committed : status.low_watermark;
    status.lag = status.high_watermark >= 0 && base >= 0 ? std::max<std::int64_t>(0, status.high_watermark - base) : -1;
    metrics_->set_lag(partition->topic, partition->partition, status.lag);
    for (const auto reason : all_pause_reasons) {
      if (partition->paused.has(reason)) ++paused[static_cast<std::size_t>(reason)];
    }
  }
  cluster_watch_->end_round();
  if (assignment_changed_) {
    assignment_changed_ = false;
    std::vector<std::pair<std::string, std::int32_t>> assigned;
    for (const auto& [key, partition] : partitions_) assigned.push_back(key);
    metrics_->retain_lag(assigned);
  }
  for (const auto reason : all_pause_reasons) {
    if (counted_in_metrics(reason)) metrics_->paused(reason).Set(paused[static_cast<std::size_t>(reason)]);
  }
  metrics_->in_flight().Set(static_cast<double>(total_in_flight_));
  metrics_->parked().Set(static_cast<double>(total_parked_));
  snapshot.in_flight = total_in_flight_;
  snapshot.parked = total_parked_;
  snapshot.dead_letter_blocked = output_.blocked_dead_letters() > 0 ? output_.dead_letter_refusal() : std::string();
  metrics_->dead_letters_blocked().Set(static_cast<double>(output_.blocked_dead_letters()));
  snapshot.pending_outputs = output_.pending();
  snapshot.operator_paused = operator_paused_;
  publish_breaker(snapshot);
  snapshot.last_failure = last_failure_;
  snapshot.published_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  ops_->publish(snapshot);  // the previous snapshot comes back, to be refilled next time
}

}  // namespace kernel::detail
