#pragma once
// What the loop keeps per assigned partition (loop-private; shared by the loop's sources).
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel/message.hpp"
#include "loop/batch_collector.hpp"
#include "loop/commit_tracker.hpp"
#include "loop/key_lanes.hpp"
#include "loop/loop_internal.hpp"
#include "loop/output_sender.hpp"
#include "loop/worker_pool.hpp"
#include "ops/kernel_metrics.hpp"
#include "ops/pause_reasons.hpp"

namespace kernel::detail {

struct PartitionState {
  std::string topic;
  std::int32_t partition = 0;
  CommitTracker tracker;
  std::int64_t next_offset = -1;  ///< next offset to handle; -1 until the first message
  std::int64_t committed = -1;    ///< last offset the broker acknowledged as committed
  PauseReasons paused;            ///< why it is paused (none: fetching)
  // A message waiting for its retry; the partition is paused (PauseReason::retry) meanwhile.
  std::optional<Message> retry_message;
  InFlight* retry_entry = nullptr;
  int retry_attempt = 0;
  std::chrono::steady_clock::time_point retry_due{};
  int failed_outputs = 0;           ///< entries whose output failed for good, not yet dead-lettered
  std::deque<Message> parked;       ///< received while at the in-flight cap, handled in order later
  TopicMetrics* metrics = nullptr;  ///< its topic's metrics when they are on (cached at assignment)
  bool retired = false;             ///< revoked; kept only for outstanding delivery reports
  int retry_level = -1;             ///< 0 an input, n the retry topic .retry.n; -1 until known
  PartitionBatch batch;             ///< batch_handler only: collected messages, a batch's retry
  /// KERNEL_CONCURRENCY > 1: its calls by KERNEL_ORDERING lane (running, or waiting behind one).
  KeyLanes<std::unique_ptr<Call>> lanes;
  bool draining = false;  ///< revoked or stopping: nothing more of it starts
  /// Completions whose input's offset is not committed yet (CommitStrategy::mark_committed), by
  /// input offset: undone if the partition's uncommitted work is dropped.
  std::vector<std::pair<std::int64_t, std::function<void()>>> undo_until_committed;
  /// The first offset received since assigned: exactly-once rewinds there before its first commit.
  std::int64_t start_offset = -1;
  /// Exactly-once with workers (exactly_once_commits.hpp): every entry below this offset is concluded
  /// and its records produced; the records of a concluded entry at or above it are held here,
  /// by input offset, until the entries below it are concluded too.
  std::int64_t released_until = -1;
  std::map<std::int64_t, std::vector<Resend>> held_records;
  /// Exactly-once: the highest input offset with a record produced in the open transaction.
  std::int64_t produced_in_transaction = -1;
  /// Exactly-once: inputs (by offset) an output of which failed for good in an aborted
  /// transaction, with the reason; dead-lettered (output_failed) when handled again.
  std::map<std::int64_t, std::string> undeliverable;
  /// Exactly-once: how often the broker refused an offset's dead letter as too large in an
  /// aborted transaction; its redo cuts the value that much more. Carried over a rewind.
  std::map<std::int64_t, int> dead_letter_too_large;
  /// Exactly-once: rewound by an aborted transaction, paused (PauseReason::retry) until its
  /// redo is due (ExactlyOnceCommits).
  bool awaiting_redo = false;
};

/// The bytes a parked message holds for its key and value (the parked budget's unit; the
/// number of parked messages is bounded on its own, so empty messages are bounded too).
inline std::size_t parked_size(const Message& message) noexcept {
  return message.value().size() + message.key().value_or(std::string_view()).size();
}

/// Exactly-once with workers: whether a record of `entry` must wait in its partition's
/// held_records because an entry below it is not concluded yet. A function of the partition's
/// state alone, so the output sender asks it per record without calling into the loop.
inline bool must_hold(const InFlight& entry) noexcept {
  auto& partition = *entry.owner;
  // Produced at once when every entry below it is concluded: it is then the first entry from
  // released_until on (the entries below are concluded, or complete and gone).
  return entry.offset >= partition.released_until && partition.tracker.first_from(partition.released_until) != &entry;
}

}  // namespace kernel::detail
