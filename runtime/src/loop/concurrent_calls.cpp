// KERNEL_CONCURRENCY > 1: handler calls run on worker threads, everything else stays here.
//
// The loop thread remains the only one that touches librdkafka, the commit trackers, the
// partitions' state, producing, retries and the breaker. A message that would be processed
// enters its partition's KERNEL_ORDERING lane (key_lanes.hpp); when the lane is free it goes
// to a worker, which runs the middleware chain and the handler on its own Context and hands
// back the outcome and outputs. The loop drains those each iteration and concludes them
// exactly as it concludes its own calls, then starts the lane's next message. Commits are
// unchanged: the end of each partition's contiguous completed prefix, so a slow call holds
// its partition's commit point, never a later offset's completion. Under exactly-once, a
// concluded call's records are also held until every lower offset of its partition is
// concluded (exactly_once_commits.hpp), so a transaction never carries a record beyond its commit.
#include <algorithm>

#include "core/context_access.hpp"
#include "log/logging.hpp"
#include "loop/exactly_once_commits.hpp"
#include "loop/kernel_loop.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

void KernelLoop::start_workers() {
  if (settings_.concurrency <= 1) return;  // the loop calls the handler itself: no thread, no hand-over
  const auto count = static_cast<std::size_t>(settings_.concurrency);
  log_->info("{} worker threads call the handler (KERNEL_CONCURRENCY), KERNEL_ORDERING={}", count,
             to_string(settings_.ordering));
  worker_contexts_.assign(count, context_);  // the prototype: producer middleware, kernel values, metrics, guard
  workers_ = std::make_unique<WorkerPool>(
      count, [this](Call& call, std::size_t worker) { call_on_worker(call, worker); },
      [this] {
        // Ends the loop's rd_kafka_consumer_poll() at once (or its next one) so the call is
        // concluded without waiting for the poll timeout. The queue exists once start() ran,
        // which is before any call is submitted.
        if (consumer_queue_) rd_kafka_queue_yield(consumer_queue_.get());
      });
}

void KernelLoop::call_on_worker(Call& call, std::size_t worker) {
  // Reads only the partition's name: nothing of its state, which the loop thread owns.
  const auto& partition = *call.partition;
  auto& context = worker_contexts_[worker];
  ScopedLogContext scope(partition.topic, partition.partition, call.message.offset());
  ContextAccess::begin_attempt(context, call.attempt);
  if (metrics_) metrics_->workers_busy().Increment();
  call.outcome = call_handler(partition, call.message, context, 1 + worker);
  if (metrics_) metrics_->workers_busy().Decrement();
  // As on the loop: a refused topic fails the attempt even when the handler caught the refusal.
  if (const auto& refused = ContextAccess::produce_refusal(context);
      !refused.message.empty() && call.outcome.kind != Outcome::Kind::fatal) {
    call.outcome = Outcome::permanent(refused.message, refused.reason);
  }
  call.outputs = ContextAccess::take_produced(context);
  call.on_completed = ContextAccess::take_completion_actions(context);
}

void KernelLoop::reserve_lanes_of_running_calls(PartitionState& fresh) {
  if (!workers_) return;
  for (const auto& earlier : retired_) {
    if (earlier->partition != fresh.partition || earlier->topic != fresh.topic || earlier->lanes.running() == 0)
      continue;
    for (const auto& lane : earlier->lanes.running_lanes()) fresh.lanes.reserve(lane);
  }
}

void KernelLoop::submit_call(PartitionState& partition, InFlight& entry, Message message, int attempt) {
  auto lane = lane_of(settings_.ordering, message);
  auto call = std::make_unique<Call>(partition, entry, std::move(message), attempt, std::move(lane));
  const auto& its_lane = call->lane;  // the call lives on the heap: the reference survives the move
  if (auto ready = partition.lanes.enter(its_lane, std::move(call))) launch(std::move(*ready));
}

void KernelLoop::launch(std::unique_ptr<Call> call) {
  auto& partition = *call->partition;
  // After a fatal error, or when its partition is handed over, nothing more starts; when
  // stopping, nothing more of a held partition.
  if (exit_code_ != exit_code::ok || partition.draining || (stopping() && held(partition))) {
    abandon(*call);
    return;
  }
  if (held(partition)) {
    // An operator or the breaker holds the partition: it starts when the hold ends.
    call->due = Clock::now();
    waiting_calls_.push_back(std::move(call));
    return;
  }
  workers_->submit(std::move(call));
}

void KernelLoop::hold_queued_calls() {
  if (!workers_) return;
  // Submitted calls a worker has not taken yet would start although their partition is held
  // now: taken back, they wait on the loop like any held call, their lanes still taken (so the
  // lanes keep their order) and their offsets still in flight.
  const auto first = waiting_calls_.size();
  workers_->withdraw([](const Call& call) { return held(*call.partition); }, waiting_calls_);
  const auto now = Clock::now();
  for (auto i = first; i < waiting_calls_.size(); ++i) {
    auto& call = *waiting_calls_[i];
    call.due = now;
    if (call.probe) {
      // The breaker's probe, held before it started (an operator pause, or the circuit opened
      // again meanwhile): another call may probe.
      call.probe = false;
      call.breaker_wait = true;
      breaker_.probe_abandoned();
    }
  }
}

void KernelLoop::abandon(Call& call) {
  // Neither it nor what waits behind it in its lane is handled (nor committed: delivered
  // again, in order). Running the followers now would put them before it.
  call.partition->lanes.drop_lane(call.lane);
  call.partition->lanes.leave(call.lane);
}

void KernelLoop::conclude_calls() {
  workers_->take_completed(completed_calls_);
  // finish_call() can start calls and serve delivery reports, never take completions: the
  // vector is not touched behind this loop's back.
  for (auto& call : completed_calls_) finish_call(std::move(call));
  completed_calls_.clear();
}

void KernelLoop::finish_call(std::unique_ptr<Call> call) {
  auto& partition = *call->partition;
  if (partition.retired) {
    // Revoked while it ran, past the revocation's deadline: its result is discarded (the
    // offset was not committed; the next owner handles it again).
    partition.lanes.leave(call->lane);
    // A discarded probe closes nothing and reopens nothing: another call probes, or the
    // partitions kept would stay held by a half-open circuit for ever.
    if (call->probe) breaker_.probe_abandoned();
    // The partition may be this member's again: its lane there was reserved for this call.
    if (auto* current = find_partition(partition.topic.c_str(), partition.partition);
        current && current != &partition && call->lane) {
      if (auto next = current->lanes.release(*call->lane)) launch(std::move(*next));
    }
    return;
  }
  call->probe = false;
  const auto disposition = disposition_of(partition, call->message, call->outcome, call->attempt, true);
  conclude(partition, *call->entry, call->message, call->outcome, call->attempt, disposition, call->outputs,
           &call->on_completed);
  if (waits(disposition)) {
    if (partition.draining || stopping()) {
      abandon(*call);  // not finished: uncommitted, delivered again
      return;
    }
    // Waits on the loop, its lane still taken: the key's later messages wait behind it, the
    // partition's other keys go on.
    call->attempt = disposition.next_attempt;
    call->due = Clock::now() + disposition.delay;
    call->breaker_wait = disposition.action == Disposition::Action::hold_for_breaker;
    call->outputs.clear();
    if (!call->breaker_wait && !held(partition)) wake_at(call->due);  // a breaker's wait ends with the hold
    waiting_calls_.push_back(std::move(call));
    return;
  }
  auto& entry = *call->entry;
  if ((entry.pending_acks > 0 || entry.output_failed) && !entry.input) {
    entry.input.emplace(std::move(call->message));  // kept in case an output fails for good
  }
  if (auto* exactly_once = commits_->exactly_once()) {
    // Exactly-once: what waited for this offset goes out.
    exactly_once->release_held(partition, [this](Resend& record) {
      ++pending_outputs_;
      produce_again(record);
    });
  }
  settle(partition);
  leave_lane(*call);
}

void KernelLoop::leave_lane(Call& call) {
  if (auto next = call.partition->lanes.leave(call.lane)) launch(std::move(*next));
}

void KernelLoop::run_waiting_calls(Clock::time_point now) {
  if (waiting_calls_.empty() || stopping()) return;
  std::vector<std::unique_ptr<Call>> ready;
  std::erase_if(waiting_calls_, [&](std::unique_ptr<Call>& call) {
    if (held(*call->partition)) return false;
    if (call->due > now) {
      wake_at(call->due);
      return false;
    }
    ready.push_back(std::move(call));
    return true;
  });
  for (auto& call : ready) {
    call->breaker_wait = false;
    workers_->submit(std::move(call));
  }
}

bool KernelLoop::probe_with_waiting_call() {
  const auto may_probe = [](const std::unique_ptr<Call>& call) {
    return !call->partition->paused.has(PauseReason::operator_);
  };
  // A call that failed during the outage; else one held back when the circuit opened.
  auto it = std::find_if(waiting_calls_.begin(), waiting_calls_.end(),
                         [&](const auto& call) { return call->breaker_wait && may_probe(call); });
  if (it == waiting_calls_.end()) {
    const auto now = Clock::now();
    it = std::find_if(waiting_calls_.begin(), waiting_calls_.end(),
                      [&](const auto& call) { return call->due <= now && may_probe(call); });
  }
  if (it == waiting_calls_.end()) return false;
  auto call = std::move(*it);
  waiting_calls_.erase(it);
  log_->info("circuit breaker half-open: probing with {}[{}]@{}", call->partition->topic, call->partition->partition,
             call->message.offset());
  call->breaker_wait = false;
  call->probe = true;
  workers_->submit(std::move(call));  // its outcome closes or reopens the circuit
  return true;
}

void KernelLoop::finish_running_calls(Clock::time_point deadline, const rd_kafka_topic_partition_list_t* only) {
  // A revocation hands the partitions over quickly: what waits in their lanes is dropped (the
  // next owner handles it). A shutdown finishes every message it received (within the
  // deadline), so a clean stop leaves no completed offset behind an uncommitted one.
  std::vector<PartitionState*> scope;
  for (auto& [key, partition] : partitions_) {
    if (only && !rd_kafka_topic_partition_list_find(only, partition->topic.c_str(), partition->partition)) continue;
    if (only) {
      partition->draining = true;
      partition->lanes.drop_waiting();  // never started: uncommitted, delivered again
    }
    scope.push_back(partition.get());
  }
  auto in_scope = [&](const PartitionState* partition) {
    return std::find(scope.begin(), scope.end(), partition) != scope.end();
  };
  // Calls waiting on the loop (a retry's backoff, a hold) are not finished, nor what waits
  // behind them.
  auto drop_waiting_calls = [&] {
    std::erase_if(waiting_calls_, [&](std::unique_ptr<Call>& call) {
      if (!in_scope(call->partition)) return false;
      abandon(*call);
      return true;
    });
  };
  auto left = [&] {
    std::size_t count = 0;
    for (const auto* partition : scope) count += partition->lanes.running() + partition->lanes.waiting();
    return count;
  };
  drop_waiting_calls();
  while (left() > 0 && Clock::now() < deadline) {
    workers_->wait_for_completion(deadline);
    conclude_calls();
    drop_waiting_calls();
  }
  if (const auto count = left(); count > 0) {
    log_->warn("{} unfinished on workers at the deadline: not committed, delivered again", count_of(count, "call"));
    for (auto* partition : scope) {
      partition->draining = true;
      partition->lanes.drop_waiting();
    }
  }
}

}  // namespace kernel::detail
