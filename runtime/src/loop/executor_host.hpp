#pragma once
// What a call executor (call_executor.hpp) may ask of the loop, and nothing more: the
// partitions, the decision and its carrying out. Direct calls (no virtual call per message);
// executor_host.cpp forwards each to KernelLoop.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/completion_hook.hpp"
#include "kernel/context.hpp"
#include "kernel/handler.hpp"
#include "kernel/message.hpp"
#include "kernel/outcome.hpp"
#include "kernel/outgoing.hpp"
#include "loop/disposition.hpp"

namespace kernel::detail {

class KernelLoop;
struct InFlight;
struct PartitionState;

class ExecutorHost {
 public:
  using Clock = std::chrono::steady_clock;
  using Partitions = std::map<std::pair<std::string, std::int32_t>, std::unique_ptr<PartitionState>>;

  explicit ExecutorHost(KernelLoop& loop) noexcept : loop_(&loop) {}

  /// The assigned partitions.
  Partitions& partitions() noexcept;
  /// Revoked partitions kept while their outputs or calls are outstanding.
  const std::vector<std::unique_ptr<PartitionState>>& retired() const noexcept;
  PartitionState* find_partition(const std::string& topic, std::int32_t partition);
  /// The attempt a message of `partition` starts with (1 on an input, n + 1 on `.retry.n`).
  int first_attempt(PartitionState& partition);
  /// Paused for a reason that stops handling altogether (an operator, the breaker).
  static bool held(const PartitionState& partition) noexcept;
  bool stopping() const noexcept;
  /// A fatal error stops the kernel: nothing more starts.
  bool failed() const noexcept;
  /// Something is due at `due`: the loop polls no longer than until then.
  void wake_at(Clock::time_point due) noexcept;
  void pause_for_retry(PartitionState& partition);
  void resume_after_retry(PartitionState& partition);

  /// What an attempt's outcome means, counted in the breaker when `count_in_breaker`.
  Disposition disposition_of(PartitionState& partition, const Message& message, const Outcome& outcome, int attempt,
                             bool count_in_breaker);
  /// Carries the disposition out (the loop's conclude()).
  void conclude(PartitionState& partition, InFlight& entry, Message& message, const Outcome& outcome, int attempt,
                const Disposition& disposition, const std::vector<Outgoing>& outputs,
                std::vector<CompletionHook>* on_completed = nullptr);
  /// After a partition's attempts were concluded: its completed prefix moves on.
  void settle(PartitionState& partition);
  /// Exactly-once: produces the records held behind an offset concluded now (no-op otherwise).
  void release_held(PartitionState& partition);
  /// The breaker's probe was discarded (its partition revoked or held): another call may probe.
  void probe_abandoned() noexcept;

 private:
  KernelLoop* loop_;
};

}  // namespace kernel::detail
