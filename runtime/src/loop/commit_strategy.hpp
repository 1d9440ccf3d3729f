#pragma once
// How the loop commits completed work: one interface, chosen once at start from
// KERNEL_DELIVERY. At-least-once commits the consumer's offsets (offset_commits.hpp);
// exactly-once commits them in the producer's transaction (exactly_once_commits.hpp). The loop
// asks at a few points only (a commit due, a rebalance, a record of a transaction not
// delivered, shutdown's final commit) and acts on the CommitResult; it reads none of the
// strategy's state. Loop thread only.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <librdkafka/rdkafka.h>
#include <spdlog/logger.h>

#include "config/settings.hpp"
#include "kernel/detail/rdkafka_handles.hpp"

namespace kernel::detail {

struct PartitionState;
class KernelMetrics;
class ExactlyOnceCommits;

/// What a commit (or an abort) came to; the loop acts on it.
enum class CommitResult {
  done,     ///< committed, or nothing was to commit or abort
  refused,  ///< the broker refused an offset (a rebalance, the coordinator moving): try again later
  aborted,  ///< exactly-once: the transaction was aborted, the partitions rewound; the work is redone
  fatal,    ///< the producer failed for good (fenced among others): stop, exit 70 (fatal_reason())
};

/// What the loop lends its commit strategy: its partitions and its outputs. Called per commit,
/// rebalance or abort, never per message.
class CommitHost {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~CommitHost() = default;

  /// Each assigned partition.
  virtual void each_partition(const std::function<void(PartitionState&)>& visit) = 0;
  virtual PartitionState* find_partition(const char* topic, std::int32_t partition) = 0;
  /// Completes what a nested settle left (CommitTracker::advance()).
  virtual void settle(PartitionState& partition) = 0;
  /// Serves delivery reports and resends until no output is pending or `deadline` passes.
  virtual void wait_for_outputs(Clock::time_point deadline) = 0;
  virtual int pending_outputs() const = 0;
  /// A fatal librdkafka error stops the loop (exit 70): nothing more can be sent.
  virtual bool failed() const = 0;
  /// Set when shutdown starts: every wait of the stop ends by then.
  virtual std::optional<Clock::time_point> stop_deadline() const = 0;
  /// After an abort: every assigned partition starts again at its committed offset once `delay`
  /// has passed (paused for PauseReason::retry meanwhile). False when none had received anything.
  virtual bool rewind_to_committed(std::chrono::milliseconds delay) = 0;
  /// The partitions rewound by rewind_to_committed() fetch again, unless an operator's or the
  /// breaker's pause holds them.
  virtual void resume_rewound() = 0;
  /// Something of the strategy's own is due at `due`: the loop polls no longer than until then.
  virtual void wake_at(Clock::time_point due) = 0;
};

class CommitStrategy {
 public:
  using Clock = std::chrono::steady_clock;

  CommitStrategy(CommitHost& host, const Settings& settings, std::shared_ptr<spdlog::logger> log,
                 KernelMetrics* metrics);
  virtual ~CommitStrategy() = default;
  CommitStrategy(const CommitStrategy&) = delete;
  CommitStrategy& operator=(const CommitStrategy&) = delete;

  /// Commits each partition's completed prefix (only those in `only` when given; exactly-once
  /// commits all of them, in one transaction). Synchronous: waits for the broker's answer.
  virtual CommitResult commit(bool synchronous, const rd_kafka_topic_partition_list_t* only = nullptr) = 0;
  /// Outputs of `partitions` are about to be waited for before they are revoked.
  virtual void revoking(const rd_kafka_topic_partition_list_t* /*partitions*/) {}
  /// `partitions` are revoked (or `lost`) once their outputs were waited for: commits them,
  /// remembers how far they got, or aborts.
  virtual CommitResult revoked(const rd_kafka_topic_partition_list_t* partitions, bool lost) = 0;
  /// `partitions` were added to the loop's table and are not applied yet: a start offset may change.
  virtual void assigned(rd_kafka_topic_partition_list_t* /*partitions*/) {}
  /// Aborts the open transaction (a record of it was not delivered; must_abort()).
  virtual CommitResult abort() { return CommitResult::done; }
  /// Housekeeping while not stopping: work of the strategy's own that is due (a redo).
  virtual void tick(Clock::time_point /*now*/) {}
  /// Why the producer failed for good (CommitResult::fatal); empty when it did not.
  virtual std::string fatal_reason() const { return {}; }

  /// Periodic commits start `commit_interval` after `now`.
  void start_interval(Clock::time_point now) noexcept { next_commit_ = now + settings_.commit_interval; }
  /// Housekeeping: commits when the interval has passed, unless the member is between
  /// generations (then until the rebalance timeout at the latest). Done when nothing was due.
  CommitResult commit_if_due(Clock::time_point now);
  /// The rebalance callback ran: an assignment or a revocation (`rejoin_follows`: a cooperative
  /// revocation, whose assignment is followed by a further join).
  void rebalanced(bool assigned, bool rejoin_follows, Clock::time_point now) noexcept;
  /// A record of the open transaction was not delivered: abort() before anything else commits.
  bool must_abort() const noexcept { return must_abort_; }
  /// Exactly-once's per-record steps (hold, begin, produced), without a virtual call per
  /// message; null under at-least-once.
  ExactlyOnceCommits* exactly_once() const noexcept { return exactly_once_; }

  /// Why a commit is still owed: "orders[0] offsets 15..20, orders[1] offsets 7..9" (empty when none).
  std::string uncommitted_summary();
  /// The broker acknowledged `offset` as the partition's committed offset: the completions of
  /// the inputs below it can no longer be lost.
  static void mark_committed(PartitionState& partition, std::int64_t offset);
  /// The partition's uncommitted work is dropped (handed over, rewound): what its completions
  /// did is undone, so a redelivery here runs again.
  static void undo_uncommitted(PartitionState& partition) noexcept;

 protected:
  /// The completed prefix of each partition (in `only` when given) beyond its committed offset.
  PartitionListPtr committable_offsets(const rd_kafka_topic_partition_list_t* only);
  /// Periodic commits wait: the group is rebalancing.
  void hold_commits(Clock::time_point now) noexcept;
  /// How long a wait for outputs or a transaction may take: 10 s at most, within the stop's deadline.
  Clock::time_point wait_deadline() const;

  CommitHost& host_;
  const Settings& settings_;
  std::shared_ptr<spdlog::logger> log_;
  KernelMetrics* metrics_;  // null when metrics are off
  ExactlyOnceCommits* exactly_once_ = nullptr;
  bool must_abort_ = false;

 private:
  Clock::time_point next_commit_{};
  // Periodic commits wait while the member is between generations (a commit answered
  // "rebalancing", or a revocation) until the assignment that ends the rebalance or, at the
  // latest, the rebalance timeout.
  bool commits_held_ = false;
  bool rejoin_follows_ = false;  // a cooperative revocation: its assignment is followed by a join
  Clock::time_point commits_held_since_{};
};

}  // namespace kernel::detail
