// Readiness and liveness are left alone: a downstream outage is no reason to restart the pod.
#include "loop/breaker_gate.hpp"

#include <chrono>

#include "core/partition_list.hpp"
#include "log/logging.hpp"
#include "loop/call_executor.hpp"
#include "loop/loop_status.hpp"
#include "loop/partition_state.hpp"
#include "loop/partition_table.hpp"

namespace kernel::detail {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::int64_t wall_clock_ms(Clock::time_point at) {
  const auto from_now = std::chrono::duration_cast<milliseconds>(at - Clock::now());
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count() +
         from_now.count();
}

}  // namespace

BreakerGate::BreakerGate(const Settings& settings, PartitionTable& table, LoopStatus& status, KernelMetrics* metrics,
                         std::shared_ptr<spdlog::logger> log)
    : breaker_(settings.breaker_threshold, settings.breaker_cooldown, settings.breaker_cooldown_max),
      threshold_(settings.breaker_threshold),
      table_(table),
      status_(status),
      metrics_(metrics),
      log_(std::move(log)) {}

bool BreakerGate::failed(const PartitionState& partition, const Message& message) {
  if (!breaker_.enabled()) return false;
  const bool probing = breaker_.state() == CircuitBreaker::State::half_open;
  if (auto state = breaker_.transient_failure(Clock::now())) {
    if (probing) {
      log_->warn("circuit breaker: probe {}[{}]@{} failed; open again for {} ms", partition.topic, partition.partition,
                 message.offset(), breaker_.cooldown().count());
    } else {
      log_->warn(
          "circuit breaker open after {} consecutive transient failures (last at {}[{}]@{}): every "
          "partition paused for {} ms, then one message goes through as a probe",
          threshold_, partition.topic, partition.partition, message.offset(), breaker_.cooldown().count());
    }
    changed(*state);
  }
  return breaker_.tripped();
}

void BreakerGate::changed(CircuitBreaker::State state) {
  if (metrics_) {
    metrics_->breaker_state().Set(static_cast<double>(state));
    metrics_->breaker_transitions().Increment();
  }
  status_.publish_soon();
  switch (state) {
    case CircuitBreaker::State::open:
      opened_at_ms_ = wall_clock_ms(Clock::now());
      table_.pause_all(PauseReason::breaker);
      if (executor_) executor_->hold();  // calls already running finish; none queued for a worker starts
      break;
    case CircuitBreaker::State::half_open: break;  // still paused: tick() names the probe
    case CircuitBreaker::State::closed:
      log_->info("circuit breaker closed: the probe succeeded; resuming {}", count_of(table_.size(), "partition"));
      table_.resume_all(PauseReason::breaker);
      break;
  }
}

PartitionState* BreakerGate::tick(Clock::time_point now, bool stopping) {
  if (!breaker_.enabled()) return nullptr;
  if (auto state = breaker_.tick(now)) changed(*state);
  if (stopping || !breaker_.take_probe()) return nullptr;
  // The probe: a message waiting for its retry (one that failed during the outage), run now
  // although its partition is held. Its outcome closes or reopens the circuit. With workers,
  // the messages that failed during the outage wait on the loop (worker_executor.cpp).
  const auto probe = executor_ ? executor_->probe() : CallExecutor::Probe::from_retry_slot;
  if (probe == CallExecutor::Probe::started) return nullptr;
  for (auto& [key, partition] : table_.assigned()) {
    // With workers, a retry topic's head in its slot would only wait for the hold.
    if (probe == CallExecutor::Probe::none_waiting) break;
    if (!partition->retry_entry || partition->paused.has(PauseReason::operator_) ||
        partition->paused.has(PauseReason::fleet)) {
      continue;
    }
    log_->info("circuit breaker half-open: probing with {}[{}]@{}", partition->topic, partition->partition,
               partition->retry_message->offset());
    return partition.get();  // failing again, it waits in the slot for the next probe
  }
  // Nothing waits for a retry (it was revoked, say): let the partitions run; the next call's
  // outcome is the probe.
  log_->info("circuit breaker half-open: resuming {} until the next call's outcome",
             count_of(table_.size(), "partition"));
  table_.resume_all(PauseReason::breaker);
  return nullptr;
}

void BreakerGate::hold_assigned(const rd_kafka_topic_partition_list_t* partitions) {
  if (breaker_.state() != CircuitBreaker::State::open) return;
  for (int i = 0; i < partitions->cnt; ++i) {
    if (auto* partition = table_.find(partitions->elems[i].topic, partitions->elems[i].partition)) {
      table_.pause(*partition, PauseReason::breaker);
    }
  }
}

void BreakerGate::publish(StatusSnapshot& snapshot) const {
  if (!breaker_.enabled()) {
    snapshot.circuit.clear();
    return;
  }
  snapshot.circuit = to_string(breaker_.state());
  snapshot.circuit_opened_at_ms = opened_at_ms_;
  snapshot.circuit_probe_at_ms =
      breaker_.state() == CircuitBreaker::State::open ? wall_clock_ms(breaker_.open_until()) : 0;
  snapshot.circuit_consecutive_failures = breaker_.consecutive_failures();
}

}  // namespace kernel::detail
