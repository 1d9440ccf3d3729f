// WorkerExecutor, KERNEL_CONCURRENCY > 1: handler calls run on worker threads, everything else
// stays on the loop thread.
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
#include "loop/worker_executor.hpp"

#include <algorithm>

#include "core/context_access.hpp"
#include "core/trace_context.hpp"
#include "log/logging.hpp"
#include "loop/partition_state.hpp"
#include "ops/kernel_metrics.hpp"

namespace kernel::detail {

WorkerExecutor::WorkerExecutor(ExecutorHost host, const Settings& settings, const Chain& chain,
                               const Context& prototype, std::shared_ptr<spdlog::logger> log, OpsState* ops,
                               KernelMetrics* metrics, std::function<void()> wake)
    : host_(host),
      settings_(settings),
      log_(std::move(log)),
      metrics_(metrics),
      call_(chain, settings.handler_timeout, ops) {
  const auto count = static_cast<std::size_t>(settings_.concurrency);
  log_->info("{} worker threads call the handler (KERNEL_CONCURRENCY), KERNEL_ORDERING={}", count,
             to_string(settings_.ordering));
  contexts_.assign(count, prototype);  // the prototype: producer middleware, kernel values, metrics, guard
  pool_ = std::make_unique<WorkerPool>(
      count, [this](Call& call, std::size_t worker) { call_on_worker(call, worker); }, std::move(wake));
}

void WorkerExecutor::call_on_worker(Call& call, std::size_t worker) {
  // Reads only the partition's name: nothing of its state, which the loop thread owns.
  const auto& partition = *call.partition;
  auto& context = contexts_[worker];
  ScopedLogContext scope(partition.topic, partition.partition, call.message.offset());
  ContextAccess::begin_attempt(context, call.attempt);
  if (metrics_) metrics_->workers_busy().Increment();
  call.outcome = call_(partition, call.message, context, 1 + worker);
  if (metrics_) metrics_->workers_busy().Decrement();
  // As on the loop: a refused topic fails the attempt even when the handler caught the refusal.
  if (const auto& refused = ContextAccess::produce_refusal(context);
      !refused.message.empty() && call.outcome.kind != Outcome::Kind::fatal) {
    call.outcome = refused.outcome();
  }
  call.outputs = ContextAccess::take_produced(context);
  call.on_completed = ContextAccess::take_completion_actions(context);
}

void WorkerExecutor::assigned(PartitionState& fresh) {
  for (const auto& earlier : host_.retired()) {
    if (earlier->partition != fresh.partition || earlier->topic != fresh.topic || earlier->lanes.running() == 0)
      continue;
    for (const auto& lane : earlier->lanes.running_lanes()) fresh.lanes.reserve(lane);
  }
}

bool WorkerExecutor::take(PartitionState& partition, InFlight& entry, Message& message, int attempt) {
  auto lane = lane_of(settings_.ordering, message);
  auto call = std::make_unique<Call>(partition, entry, std::move(message), attempt, std::move(lane));
  const auto& its_lane = call->lane;  // the call lives on the heap: the reference survives the move
  if (auto ready = partition.lanes.enter(its_lane, std::move(call))) launch(std::move(*ready));
  return true;
}

void WorkerExecutor::launch(std::unique_ptr<Call> call) {
  auto& partition = *call->partition;
  // After a fatal error, or when its partition is handed over, nothing more starts; when
  // stopping, nothing more of a held partition.
  if (host_.failed() || partition.draining || (host_.stopping() && ExecutorHost::held(partition))) {
    abandon(*call);
    return;
  }
  if (ExecutorHost::held(partition)) {
    // An operator or the breaker holds the partition: it starts when the hold ends.
    call->due = Clock::now();
    waiting_.push_back(std::move(call));
    return;
  }
  pool_->submit(std::move(call));
}

void WorkerExecutor::hold() {
  // Submitted calls a worker has not taken yet would start although their partition is held
  // now: taken back, they wait on the loop like any held call, their lanes still taken (so the
  // lanes keep their order) and their offsets still in flight.
  const auto first = waiting_.size();
  pool_->withdraw([](const Call& call) { return ExecutorHost::held(*call.partition); }, waiting_);
  const auto now = Clock::now();
  for (auto i = first; i < waiting_.size(); ++i) {
    auto& call = *waiting_[i];
    call.due = now;
    if (call.probe) {
      // The breaker's probe, held before it started (an operator pause, or the circuit opened
      // again meanwhile): another call may probe.
      call.probe = false;
      call.breaker_wait = true;
      host_.probe_abandoned();
    }
  }
}

void WorkerExecutor::abandon(Call& call) {
  // Neither it nor what waits behind it in its lane is handled (nor committed: delivered
  // again, in order). Running the followers now would put them before it.
  call.partition->lanes.drop_lane(call.lane);
  call.partition->lanes.leave(call.lane);
}

void WorkerExecutor::conclude_returned() {
  pool_->take_completed(completed_);
  // finish_call() can start calls and serve delivery reports, never take completions: the
  // vector is not touched behind this loop's back.
  for (auto& call : completed_) finish_call(std::move(call));
  completed_.clear();
}

void WorkerExecutor::finish_call(std::unique_ptr<Call> call) {
  auto& partition = *call->partition;
  if (partition.retired) {
    // Revoked while it ran, past the revocation's deadline: its result is discarded (the
    // offset was not committed; the next owner handles it again).
    partition.lanes.leave(call->lane);
    // A discarded probe closes nothing and reopens nothing: another call probes, or the
    // partitions kept would stay held by a half-open circuit for ever.
    if (call->probe) host_.probe_abandoned();
    // The partition may be this member's again: its lane there was reserved for this call.
    if (auto* current = host_.find_partition(partition.topic, partition.partition);
        current && current != &partition && call->lane) {
      if (auto next = current->lanes.release(*call->lane)) launch(std::move(*next));
    }
    return;
  }
  call->probe = false;
  const TraceScope trace(call->message);  // the loop's lines about it name its trace, as the worker's did
  const auto disposition = host_.disposition_of(partition, call->message, call->outcome, call->attempt, true);
  host_.conclude(partition, *call->entry, call->message, call->outcome, call->attempt, disposition, call->outputs,
                 &call->on_completed);
  if (waits(disposition)) {
    if (partition.draining || host_.stopping()) {
      abandon(*call);  // not finished: uncommitted, delivered again
      return;
    }
    // Waits on the loop, its lane still taken: the key's later messages wait behind it, the
    // partition's other keys go on.
    call->attempt = disposition.next_attempt;
    call->due = Clock::now() + disposition.delay;
    call->breaker_wait = disposition.action == Disposition::Action::hold_for_breaker;
    call->outputs.clear();
    // A breaker's wait ends with the hold.
    if (!call->breaker_wait && !ExecutorHost::held(partition)) host_.wake_at(call->due);
    waiting_.push_back(std::move(call));
    return;
  }
  auto& entry = *call->entry;
  if ((entry.pending_acks > 0 || entry.output_failed) && !entry.input) {
    entry.input.emplace(std::move(call->message));  // kept in case an output fails for good
  }
  host_.release_held(partition);  // exactly-once: what waited for this offset goes out
  host_.settle(partition);
  leave_lane(*call);
}

void WorkerExecutor::leave_lane(Call& call) {
  if (auto next = call.partition->lanes.leave(call.lane)) launch(std::move(*next));
}

CallExecutor::Clock::time_point WorkerExecutor::tick(Clock::time_point now) {
  auto next_due = Clock::time_point::max();
  if (waiting_.empty() || host_.stopping()) return next_due;
  std::vector<std::unique_ptr<Call>> ready;
  std::erase_if(waiting_, [&](std::unique_ptr<Call>& call) {
    if (ExecutorHost::held(*call->partition)) return false;
    if (call->due > now) {
      next_due = std::min(next_due, call->due);
      return false;
    }
    ready.push_back(std::move(call));
    return true;
  });
  for (auto& call : ready) {
    call->breaker_wait = false;
    pool_->submit(std::move(call));
  }
  return next_due;
}

CallExecutor::Probe WorkerExecutor::probe() {
  const auto may_probe = [](const std::unique_ptr<Call>& call) {
    return !call->partition->paused.has(PauseReason::operator_) && !call->partition->paused.has(PauseReason::fleet);
  };
  // A call that failed during the outage; else one held back when the circuit opened.
  auto it = std::find_if(waiting_.begin(), waiting_.end(),
                         [&](const auto& call) { return call->breaker_wait && may_probe(call); });
  if (it == waiting_.end()) {
    const auto now = Clock::now();
    it = std::find_if(waiting_.begin(), waiting_.end(),
                      [&](const auto& call) { return call->due <= now && may_probe(call); });
  }
  if (it == waiting_.end()) return Probe::none_waiting;
  auto call = std::move(*it);
  waiting_.erase(it);
  log_->info("circuit breaker half-open: probing with {}[{}]@{}", call->partition->topic, call->partition->partition,
             call->message.offset());
  call->breaker_wait = false;
  call->probe = true;
  pool_->submit(std::move(call));  // its outcome closes or reopens the circuit
  return Probe::started;
}

void WorkerExecutor::rewound() {
  // Calls waiting on the loop (a retry's backoff, a hold) are dropped with the rest; those
  // running on workers are discarded when they return (their partition state is retired).
  for (auto& call : waiting_) abandon(*call);
  waiting_.clear();
}

void WorkerExecutor::finish(Clock::time_point deadline, const rd_kafka_topic_partition_list_t* only) {
  // A revocation hands the partitions over quickly: what waits in their lanes is dropped (the
  // next owner handles it). A shutdown finishes every message it received (within the
  // deadline), so a clean stop leaves no completed offset behind an uncommitted one.
  std::vector<PartitionState*> scope;
  for (auto& [key, partition] : host_.partitions()) {
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
    std::erase_if(waiting_, [&](std::unique_ptr<Call>& call) {
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
    pool_->wait_for_completion(deadline);
    conclude_returned();
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
