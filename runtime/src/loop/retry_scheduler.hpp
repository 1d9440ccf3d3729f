#pragma once
// Where a message waits for its next attempt on the loop thread, and when the loop wakes for
// it: the partition's retry slot (an in-place retry after its backoff, or a retry topic's head
// not due yet, the partition paused meanwhile), the retry topics a transient failure moves a
// message to, and the one due time run() polls against (wake_time.hpp). A worker's call waits in
// its key's lane and a batch in its partition's batch; they tell their due times here too.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "config/settings.hpp"
#include "kernel/message.hpp"
#include "kernel/outcome.hpp"
#include "loop/disposition.hpp"
#include "loop/retry_policy.hpp"
#include "loop/wake_time.hpp"

namespace kernel::detail {

class OutputSender;
class PartitionTable;
struct InFlight;
struct PartitionState;

class RetryScheduler {
 public:
  using Clock = std::chrono::steady_clock;

  /// `table` is only kept (it may be constructed after this).
  RetryScheduler(const Config& config, PartitionTable& table, std::shared_ptr<spdlog::logger> log);

  /// The backoff of in-place retries and resends (KERNEL_RETRY_*).
  RetryPolicy& policy() noexcept { return policy_; }
  /// Something is due at `due`: run() polls no longer than until then.
  void wake_at(Clock::time_point due) noexcept { wake_.at(due); }
  WakeTime& wake() noexcept { return wake_; }
  Clock::time_point next_due() const noexcept { return wake_.next(); }

  /// How many retry topics there are (KERNEL_RETRY_TOPICS; 0: retries in place).
  int retry_topics() const noexcept { return static_cast<int>(names_.size()); }
  const std::vector<std::string>& retry_topic_names() const noexcept { return names_; }
  /// 0 for an input topic, n for `.retry.n` (cached in the partition state).
  int level(PartitionState& partition);

  /// A call made on the loop thread waits for its retry in the partition's retry slot, the
  /// partition paused (nothing behind it is handled meanwhile: in-place retries keep order).
  void keep(PartitionState& partition, InFlight& entry, const Disposition& disposition);
  /// A retry topic's head not due yet: moves `message` into the retry slot, pauses the
  /// partition and returns true (the loop runs it when due).
  bool wait_until_due(PartitionState& partition, InFlight& entry, Message& message);
  /// Whether `partition`'s retry slot holds a retry due by `now`; one not due yet is told to
  /// the wake time.
  bool due(const PartitionState& partition, Clock::time_point now);
  /// Produces `message` to the retry topic `.retry.<next>`, with the bookkeeping headers; the
  /// input's commit waits for the record, as for an output.
  void move_to_retry_topic(OutputSender& output, PartitionState& partition, InFlight& entry, const Message& message,
                           const Outcome& outcome, int attempt, int next);

 private:
  const Config& config_;
  const Settings& settings_;
  PartitionTable& table_;
  std::shared_ptr<spdlog::logger> log_;
  RetryPolicy policy_;
  std::vector<std::string> names_;  // KERNEL_RETRY_TOPICS, .retry.1 first (empty: in place)
  WakeTime wake_;
};

}  // namespace kernel::detail
