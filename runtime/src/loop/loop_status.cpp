#include "loop/loop_status.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include "log/logging.hpp"
#include "loop/breaker_gate.hpp"
#include "loop/call_executor.hpp"
#include "loop/fleet_commands.hpp"
#include "loop/output_sender.hpp"
#include "loop/partition_state.hpp"
#include "loop/partition_table.hpp"

namespace kernel::detail {

LoopStatus::LoopStatus(Publication published, PartitionTable& table, const OutputSender& output,
                       std::shared_ptr<spdlog::logger> log)
    : ops_(published.state), metrics_(published.metrics), table_(table), output_(output), log_(std::move(log)) {}

LoopStatus::~LoopStatus() = default;

void LoopStatus::client_statistics(std::string_view json) {
  if (metrics_ && !metrics_->client().update(json)) {
    log_->debug("librdkafka statistics not understood: client metrics keep the previous report");
  }
}

void LoopStatus::apply_operator_request(CallExecutor* executor) {
  operator_generation_ = ops_->requested_generation();
  const bool wanted = ops_->operator_pause_wanted();
  if (wanted != operator_paused_) {
    operator_paused_ = wanted;
    if (wanted) {
      table_.pause_all(PauseReason::operator_);
    } else {
      table_.resume_all(PauseReason::operator_);
    }
    if (wanted && executor) executor->hold();  // running calls finish; none queued for a worker starts
    log_->warn("{} by an operator ({})", wanted ? "paused" : "resumed", count_of(table_.size(), "partition"));
    publish_due_ = {};  // show it at once
  }
  ops_->acknowledge(operator_generation_);
}

void LoopStatus::attach_fleet(const FleetCommands* fleet) {
  fleet_ = fleet;
  if (fleet_) fleet_pauses_ = fleet_->pauses(fleet_generation_);
}

std::uint64_t LoopStatus::fleet_generation() const noexcept { return fleet_->generation(); }

void LoopStatus::apply_fleet_pauses(CallExecutor* executor) {
  fleet_pauses_ = fleet_->pauses(fleet_generation_);  // a copy, only when a command came
  std::size_t paused = 0, resumed = 0;
  for (auto& [key, partition] : table_.assigned()) {
    const bool wanted = fleet_pauses_.covering(partition->topic, partition->partition) != nullptr;
    if (wanted == partition->paused.has(PauseReason::fleet)) continue;
    if (wanted) {
      table_.pause(*partition, PauseReason::fleet);
      ++paused;
    } else {
      table_.resume(*partition, PauseReason::fleet);
      ++resumed;
    }
  }
  if (paused > 0 && executor) executor->hold();  // running calls finish; none queued for a worker starts
  if (paused > 0 || resumed > 0) {
    log_->warn("fleet-wide command applied: {} paused, {} resumed ({} in force)", count_of(paused, "partition"),
               resumed, count_of(fleet_pauses_.in_force().size(), "pause"));
  }
  publish_due_ = {};  // show it at once
}

void LoopStatus::publish(Clock::time_point now, rd_kafka_t* consumer, const BreakerGate& breaker) {
  publish_due_ = now + std::chrono::milliseconds(200);
  if (!cluster_watch_) cluster_watch_ = std::make_unique<ClusterWatch>(consumer, *ops_);
  cluster_watch_->begin_round();
  auto& snapshot = status_;
  snapshot.partitions.resize(table_.size());  // keeps the strings' storage
  std::array<int, all_pause_reasons.size()> paused{};
  std::size_t i = 0;
  for (auto& [key, partition] : table_.assigned()) {
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
    rd_kafka_get_watermark_offsets(consumer, partition->topic.c_str(), partition->partition, &low, &high);
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
    for (const auto& [key, partition] : table_.assigned()) assigned.push_back(key);
    metrics_->retain_lag(assigned);
  }
  for (const auto reason : all_pause_reasons) {
    if (counted_in_metrics(reason)) metrics_->paused(reason).Set(paused[static_cast<std::size_t>(reason)]);
  }
  metrics_->in_flight().Set(static_cast<double>(table_.in_flight()));
  metrics_->parked().Set(static_cast<double>(table_.parked()));
  snapshot.in_flight = table_.in_flight();
  snapshot.parked = table_.parked();
  snapshot.dead_letter_blocked = output_.blocked_dead_letters() > 0 ? output_.dead_letter_refusal() : std::string();
  metrics_->dead_letters_blocked().Set(static_cast<double>(output_.blocked_dead_letters()));
  snapshot.pending_outputs = output_.pending();
  snapshot.operator_paused = operator_paused_;
  snapshot.fleet_pauses.clear();
  for (const auto& [key, command] : fleet_pauses_.in_force()) {
    snapshot.fleet_pauses.push_back(
        {command.scope.topic, command.scope.partition, command.reason, command.by, command.at});
  }
  breaker.publish(snapshot);
  snapshot.last_failure = last_failure_;
  snapshot.published_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  ops_->publish(snapshot);  // the previous snapshot comes back, to be refilled next time
}

}  // namespace kernel::detail
