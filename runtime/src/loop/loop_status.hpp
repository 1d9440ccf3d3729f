#pragma once
// The loop's side of operations: what it publishes for the HTTP server (liveness, status,
// gauges) and the operator pause it applies. Loop thread only; it never waits for the server.
// Everything is off (and costs a null check) when KERNEL_HTTP_PORT is off.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include <librdkafka/rdkafka.h>
#include <spdlog/logger.h>

#include "loop/fleet_pauses.hpp"
#include "ops/cluster_watch.hpp"
#include "ops/kernel_metrics.hpp"
#include "ops/ops_state.hpp"

namespace kernel::detail {

class BreakerGate;
class CallExecutor;
class FleetCommands;
class OutputSender;
class PartitionTable;

class LoopStatus {
 public:
  using Clock = std::chrono::steady_clock;

  LoopStatus(Publication published, PartitionTable& table, const OutputSender& output,
             std::shared_ptr<spdlog::logger> log);
  ~LoopStatus();
  LoopStatus(const LoopStatus&) = delete;
  LoopStatus& operator=(const LoopStatus&) = delete;

  /// Every iteration: liveness (one relaxed store) and an operator's new request, applied to
  /// every partition (a pause also holds the calls queued for `executor`'s workers).
  /// And the fleet-wide pauses when they changed (one atomic load), with or without HTTP.
  void serve(Clock::time_point now, CallExecutor* executor) {
    if (fleet_ && fleet_generation_ != fleet_generation()) apply_fleet_pauses(executor);
    if (!ops_) return;
    ops_->heartbeat(now);
    if (ops_->requested_generation() != operator_generation_) apply_operator_request(executor);
  }
  /// At housekeeping: the status and the gauges, every 200 ms or at once when something
  /// changed. `consumer`: its cached watermarks (paused partitions are asked for off the loop).
  void publish_if_due(Clock::time_point now, rd_kafka_t* consumer, const BreakerGate& breaker) {
    if (ops_ && now >= publish_due_) publish(now, consumer, breaker);
  }
  /// Something worth showing changed (the breaker's state): publish at the next housekeeping.
  void publish_soon() noexcept { publish_due_ = {}; }
  /// The assignment changed: published at once, and the lag series of partitions gone dropped.
  void assignment_changed() noexcept {
    assignment_changed_ = true;
    publish_due_ = {};
  }
  /// An operator pause holds (partitions assigned meanwhile start paused).
  bool operator_paused() const noexcept { return operator_paused_; }
  /// The control topic's reader (null: none); its pauses in force are taken at once, before
  /// anything is assigned.
  void attach_fleet(const FleetCommands* fleet);
  /// A fleet-wide pause holds `topic`[`partition`] (a partition being assigned starts paused).
  bool fleet_holds(const std::string& topic, std::int32_t partition) const {
    return !fleet_pauses_.empty() && fleet_pauses_.covering(topic, partition) != nullptr;
  }
  /// librdkafka's statistics of a client (KERNEL_CLIENT_METRICS), served by the polls every
  /// interval: the client metrics are updated from them.
  void client_statistics(std::string_view json);
  /// The last attempt that failed, as /admin/status shows it (written by conclude()).
  FailureRecord& last_failure() noexcept { return last_failure_; }
  /// Before the consumer goes: the watch queries through it.
  void release() noexcept { cluster_watch_.reset(); }

 private:
  void apply_operator_request(CallExecutor* executor);
  std::uint64_t fleet_generation() const noexcept;
  void apply_fleet_pauses(CallExecutor* executor);
  void publish(Clock::time_point now, rd_kafka_t* consumer, const BreakerGate& breaker);

  OpsState* ops_;
  KernelMetrics* metrics_;
  PartitionTable& table_;
  const OutputSender& output_;
  std::shared_ptr<spdlog::logger> log_;
  std::uint64_t operator_generation_ = 0;  // the last operator request applied
  bool operator_paused_ = false;
  bool assignment_changed_ = false;
  Clock::time_point publish_due_{};
  StatusSnapshot status_;                        // refilled and swapped with the published one
  FailureRecord last_failure_;                   // /admin/status's last_failure
  std::unique_ptr<ClusterWatch> cluster_watch_;  // watermarks of paused partitions
  const FleetCommands* fleet_ = nullptr;         // the control topic's reader (null: none)
  std::uint64_t fleet_generation_ = 0;           // of the fleet pauses applied
  FleetPauses fleet_pauses_;                     // in force, as last applied
};

}  // namespace kernel::detail
