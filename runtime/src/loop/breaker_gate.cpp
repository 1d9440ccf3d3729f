// The loop's side of the circuit breaker (KERNEL_BREAKER_*): feeds the state machine
// (circuit_breaker.hpp) with each call's class, pauses every partition while the circuit is
// open (PauseReason::breaker), runs one waiting retry as the probe when the cooldown is over,
// and publishes the state. Readiness and liveness are left alone: a downstream outage is no
// reason to restart the pod.
#include <chrono>

#include "core/partition_list.hpp"
#include "log/logging.hpp"
#include "loop/kernel_loop.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

namespace {

std::int64_t wall_clock_ms(Clock::time_point at) {
  const auto from_now = std::chrono::duration_cast<milliseconds>(at - Clock::now());
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count() +
         from_now.count();
}

}  // namespace

void KernelLoop::breaker_answered() {
  if (auto state = breaker_.answered()) breaker_changed(*state);
}

bool KernelLoop::breaker_failed(const PartitionState& partition, const Message& message) {
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
          settings_.breaker_threshold, partition.topic, partition.partition, message.offset(),
          breaker_.cooldown().count());
    }
    breaker_changed(*state);
  }
  return breaker_.tripped();
}

void KernelLoop::breaker_changed(CircuitBreaker::State state) {
  if (metrics_) {
    metrics_->breaker_state().Set(static_cast<double>(state));
    metrics_->breaker_transitions().Increment();
  }
  publish_due_ = {};  // show it at once
  switch (state) {
    case CircuitBreaker::State::open:
      breaker_opened_at_ms_ = wall_clock_ms(Clock::now());
      for (auto& [key, partition] : partitions_) pause(*partition, PauseReason::breaker);
      if (executor_) executor_->hold();  // calls already running finish; none queued for a worker starts
      break;
    case CircuitBreaker::State::half_open: break;  // still paused: breaker_tick() lets the probe through
    case CircuitBreaker::State::closed:
      log_->info("circuit breaker closed: the probe succeeded; resuming {}", count_of(partitions_.size(), "partition"));
      for (auto& [key, partition] : partitions_) resume(*partition, PauseReason::breaker);
      break;
  }
}

void KernelLoop::breaker_tick(Clock::time_point now) {
  if (!breaker_.enabled()) return;
  if (auto state = breaker_.tick(now)) breaker_changed(*state);
  if (stopping() || !breaker_.take_probe()) return;
  // The probe: a message waiting for its retry (one that failed during the outage), run now
  // although its partition is held. Its outcome closes or reopens the circuit. With workers,
  // the messages that failed during the outage wait on the loop (worker_executor.cpp).
  const auto probe = executor_ ? executor_->probe() : CallExecutor::Probe::from_retry_slot;
  if (probe == CallExecutor::Probe::started) return;
  for (auto& [key, partition] : partitions_) {
    // With workers, a retry topic's head in its slot would only wait for the hold.
    if (probe == CallExecutor::Probe::none_waiting) break;
    if (!partition->retry_entry || partition->paused.has(PauseReason::operator_)) continue;
    log_->info("circuit breaker half-open: probing with {}[{}]@{}", partition->topic, partition->partition,
               partition->retry_message->offset());
    auto* entry = std::exchange(partition->retry_entry, nullptr);
    auto message = std::move(*partition->retry_message);
    partition->retry_message.reset();
    process(*partition, *entry, message, partition->retry_attempt);
    if (partition->retry_entry) {
      partition->retry_message.emplace(std::move(message));  // failed again: waits for the next probe
      return;
    }
    if (entry->pending_acks > 0 || entry->output_failed) entry->input.emplace(std::move(message));
    resume(*partition, PauseReason::retry);
    settle(*partition);
    return;
  }
  // Nothing waits for a retry (it was revoked, say): let the partitions run; the next call's
  // outcome is the probe.
  log_->info("circuit breaker half-open: resuming {} until the next call's outcome",
             count_of(partitions_.size(), "partition"));
  for (auto& [key, partition] : partitions_) resume(*partition, PauseReason::breaker);
}

void KernelLoop::breaker_hold_assigned(const rd_kafka_topic_partition_list_t* partitions) {
  if (breaker_.state() != CircuitBreaker::State::open) return;
  for (int i = 0; i < partitions->cnt; ++i) {
    if (auto* partition = find_partition(partitions->elems[i].topic, partitions->elems[i].partition)) {
      pause(*partition, PauseReason::breaker);
    }
  }
}

void KernelLoop::publish_breaker(StatusSnapshot& snapshot) {
  if (!breaker_.enabled()) {
    snapshot.circuit.clear();
    return;
  }
  snapshot.circuit = to_string(breaker_.state());
  snapshot.circuit_opened_at_ms = breaker_opened_at_ms_;
  snapshot.circuit_probe_at_ms =
      breaker_.state() == CircuitBreaker::State::open ? wall_clock_ms(breaker_.open_until()) : 0;
  snapshot.circuit_consecutive_failures = breaker_.consecutive_failures();
}

}  // namespace kernel::detail
