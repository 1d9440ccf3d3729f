#pragma once
// KERNEL_CONCURRENCY > 1's call executor (worker_executor.cpp, docs/concurrency.md): each
// call enters its partition's KERNEL_ORDERING lane (key_lanes.hpp) and runs on the worker
// pool (worker_pool.hpp) when the lane is free; the loop thread concludes what comes back.
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include <spdlog/logger.h>

#include "config/settings.hpp"
#include "kernel/context.hpp"
#include "kernel/handler.hpp"
#include "loop/call_executor.hpp"
#include "loop/executor_host.hpp"
#include "loop/handler_call.hpp"
#include "loop/worker_pool.hpp"

namespace kernel::detail {

class KernelMetrics;
class OpsState;

class WorkerExecutor final : public CallExecutor {
 public:
  /// Starts settings.concurrency workers, each with a copy of `prototype` (the loop's Context,
  /// complete). `wake` runs on a worker when a call completes: it ends the loop's poll.
  WorkerExecutor(ExecutorHost host, const Settings& settings, const Chain& chain, const Context& prototype,
                 std::shared_ptr<spdlog::logger> log, OpsState* ops, KernelMetrics* metrics,
                 std::function<void()> wake);

  /// Enters the call in its lane; it goes to a worker when the lane is free.
  bool take(PartitionState& partition, InFlight& entry, Message& message, int attempt) override;
  bool busy() const noexcept override { return pool_->outstanding() > 0; }
  void conclude_returned() override;
  /// Submits the waiting calls that are due and not held.
  Clock::time_point tick(Clock::time_point now) override;
  /// Calls queued for a worker whose partition is held now wait on the loop instead.
  void hold() override;
  /// The breaker's probe from the calls waiting here.
  Probe probe() override;
  /// Calls from the partition's earlier state still running on workers keep their lanes taken
  /// in `fresh` until they return, so a key never runs twice at once.
  void assigned(PartitionState& fresh) override;
  void rewound() override;
  void finish(Clock::time_point deadline, const rd_kafka_topic_partition_list_t* only) override;
  std::size_t running() const noexcept override { return pool_->busy(); }
  bool concurrent() const noexcept override { return true; }

 private:
  void launch(std::unique_ptr<Call> call);
  /// Gives up a call that did not start, with what waits behind it in its lane.
  void abandon(Call& call);
  void call_on_worker(Call& call, std::size_t worker);  // on a worker thread
  void finish_call(std::unique_ptr<Call> call);
  void leave_lane(Call& call);

  ExecutorHost host_;
  const Settings& settings_;
  std::shared_ptr<spdlog::logger> log_;
  KernelMetrics* metrics_;  // null when metrics are off
  HandlerCall call_;
  std::vector<Context> contexts_;                 // one per worker, copies of the loop's
  std::vector<std::unique_ptr<Call>> waiting_;    // a retry's backoff, a held partition
  std::vector<std::unique_ptr<Call>> completed_;  // drained from the pool, reused
  // Last: destroyed first, so a running call is waited for while everything it uses is alive.
  std::unique_ptr<WorkerPool> pool_;
};

}  // namespace kernel::detail
