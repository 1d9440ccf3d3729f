#pragma once
// KERNEL_CONCURRENCY's worker threads: they run handler calls handed over by the loop thread
// and hand each back, done, through a completion queue the loop drains. The workers touch
// nothing of librdkafka, the commit tracker or a partition's state: only the call itself.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/completion_hook.hpp"
#include "kernel/message.hpp"
#include "kernel/outcome.hpp"
#include "kernel/outgoing.hpp"

namespace kernel::detail {

struct InFlight;
struct PartitionState;

/// One handler call made off the loop thread: what to call (filled by the loop) and what came
/// of it (filled by the worker). Owned by one thread at a time; the pool's mutex hands it over.
struct Call {
  Call(PartitionState& partition, InFlight& entry, Message message, int attempt, std::optional<std::string> lane)
      : partition(&partition), entry(&entry), message(std::move(message)), attempt(attempt), lane(std::move(lane)) {}

  PartitionState* partition;
  InFlight* entry;
  Message message;
  int attempt;                      ///< 1 for the first attempt
  std::optional<std::string> lane;  ///< its KERNEL_ORDERING lane (key_lanes.hpp)
  Outcome outcome;
  std::vector<Outgoing> outputs;
  std::vector<CompletionHook> on_completed;  ///< run if the loop concludes it completed
  /// While it waits on the loop (a retry's backoff, a held partition): not started before this.
  std::chrono::steady_clock::time_point due{};
  bool breaker_wait = false;  ///< failed while the circuit was not closed: may be the probe
  bool probe = false;         ///< submitted as the breaker's probe and not yet concluded
};

class WorkerPool {
 public:
  /// Runs a call on worker `worker` (0..size()-1, so each worker can keep its own Context).
  using Work = std::function<void(Call& call, std::size_t worker)>;

  /// Starts `workers` threads. `wake` is called (from a worker) when the completion queue
  /// turns non-empty, so the loop can stop waiting in its poll.
  WorkerPool(std::size_t workers, Work work, std::function<void()> wake);
  /// Lets running calls return, drops the ones not started, and joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void submit(std::unique_ptr<Call> call);
  /// Takes back the calls no worker has started yet that `selected` picks, appending them to
  /// `out` in the order they were submitted; they are no longer outstanding.
  void withdraw(const std::function<bool(const Call&)>& selected, std::vector<std::unique_ptr<Call>>& out);
  /// Moves the completed calls into `out` (appended, in completion order).
  void take_completed(std::vector<std::unique_ptr<Call>>& out);
  /// Blocks until a call has completed or `deadline` passes; true when one is waiting.
  bool wait_for_completion(std::chrono::steady_clock::time_point deadline);
  /// Calls submitted and not yet taken back (queued, running or completed).
  std::size_t outstanding() const noexcept { return outstanding_; }
  /// Calls running on a worker right now (kernel_workers_busy).
  std::size_t busy() const noexcept { return busy_.load(std::memory_order_relaxed); }
  std::size_t size() const noexcept { return threads_.size(); }

 private:
  void run(std::size_t worker);

  Work work_;
  std::function<void()> wake_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable completed_ready_;
  std::deque<std::unique_ptr<Call>> queue_;
  std::vector<std::unique_ptr<Call>> completed_;
  bool stopping_ = false;
  std::size_t outstanding_ = 0;  // loop thread only
  std::atomic<std::size_t> busy_{0};
  std::vector<std::thread> threads_;
};

}  // namespace kernel::detail
