#pragma once
// The loop's side of the circuit breaker (KERNEL_BREAKER_*): feeds the state machine
// (circuit_breaker.hpp) with each call's class, pauses every partition while the circuit is
// open (PauseReason::breaker), names the waiting retry that runs as the probe when the
// cooldown is over, and publishes the state. Loop thread only.
#include <chrono>
#include <cstdint>
#include <memory>

#include <librdkafka/rdkafka.h>
#include <spdlog/logger.h>

#include "config/settings.hpp"
#include "kernel/message.hpp"
#include "loop/circuit_breaker.hpp"
#include "ops/kernel_metrics.hpp"
#include "ops/ops_state.hpp"

namespace kernel::detail {

class CallExecutor;
class LoopStatus;
class PartitionTable;
struct PartitionState;

class BreakerGate {
 public:
  using Clock = std::chrono::steady_clock;

  BreakerGate(const Settings& settings, PartitionTable& table, LoopStatus& status, KernelMetrics* metrics,
              std::shared_ptr<spdlog::logger> log);

  /// The executor whose queued calls an open circuit holds, and which probes with a worker's
  /// call (null: every call runs on the loop thread).
  void set_executor(CallExecutor* executor) noexcept { executor_ = executor; }

  /// A call's downstream answered (anything but a transient failure or a fatal error).
  void answered() {
    if (auto state = breaker_.answered()) changed(*state);
  }
  /// After a transient failure; true when the circuit is not closed (the failure then spends
  /// none of the message's retries).
  bool failed(const PartitionState& partition, const Message& message);
  /// Housekeeping: the cooldown's end. Returns the partition whose waiting retry runs now as
  /// the probe (its outcome closes or reopens the circuit); null when there is none here (a
  /// worker's call probes, or nothing waits and the partitions run until the next outcome).
  PartitionState* tick(Clock::time_point now, bool stopping);
  /// Partitions assigned while the circuit is open start paused.
  void hold_assigned(const rd_kafka_topic_partition_list_t* partitions);
  /// The probe was discarded (its partition revoked or held): another call may probe.
  void probe_abandoned() noexcept { breaker_.probe_abandoned(); }
  void publish(StatusSnapshot& snapshot) const;

 private:
  void changed(CircuitBreaker::State state);

  CircuitBreaker breaker_;
  int threshold_;
  std::int64_t opened_at_ms_ = 0;  // wall clock, for /admin/status
  PartitionTable& table_;
  LoopStatus& status_;
  KernelMetrics* metrics_;
  CallExecutor* executor_ = nullptr;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace kernel::detail
