#pragma once
// The partitions the loop owns: the assigned ones by topic and number, the revoked ones kept
// for their outstanding delivery reports, the in-flight and parked counts across them, and
// their pauses by reason. Loop thread only.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "kernel/message.hpp"
#include "loop/wake_time.hpp"
#include "ops/pause_reasons.hpp"

namespace kernel::detail {

struct InFlight;
struct PartitionState;

class PartitionTable {
 public:
  using Key = std::pair<std::string, std::int32_t>;
  using Assigned = std::map<Key, std::unique_ptr<PartitionState>>;
  using Retired = std::vector<std::unique_ptr<PartitionState>>;

  /// `per_partition`: the in-flight bound of one partition (KAFKA_MAX_POLL_RECORDS); the whole
  /// table's is 16 times that. `wake`: told when a paused retry can run again.
  PartitionTable(int per_partition, WakeTime& wake);
  ~PartitionTable();
  PartitionTable(const PartitionTable&) = delete;
  PartitionTable& operator=(const PartitionTable&) = delete;

  /// The consumer whose fetching pause() and resume() stop and start (set once it exists).
  void set_consumer(rd_kafka_t* consumer) noexcept { consumer_ = consumer; }

  Assigned& assigned() noexcept { return assigned_; }
  const Assigned& assigned() const noexcept { return assigned_; }
  const Retired& retired() const noexcept { return retired_; }
  std::size_t size() const noexcept { return assigned_.size(); }
  PartitionState* find(const char* topic, std::int32_t partition);
  /// The partition a consumed message belongs to; null when it is not assigned (any more).
  PartitionState* of(const rd_kafka_message_t* message) {
    if (message->rkt == last_topic_ && message->partition == last_partition_ && last_state_) return last_state_;
    return look_up(message);
  }

  /// A newly assigned partition.
  void add(std::unique_ptr<PartitionState> state);
  /// Takes a partition out of the table (revoked) and releases it (below); null when not assigned.
  std::unique_ptr<PartitionState> remove(const Key& key);
  /// A partition's work is dropped (revoked, or rewound after an aborted transaction): its
  /// in-flight messages leave the count, its parked ones and its waiting retry are forgotten
  /// (not handled, not committed: delivered again), and it is marked retired.
  void release(PartitionState& state) noexcept;
  /// Keeps a partition taken out while delivery reports or calls may still point into it.
  void retire(std::unique_ptr<PartitionState> state);
  /// Forgets the retired partitions nothing points into any more.
  void release_retired();
  /// Drops everything (closing): the states hold consumed messages.
  void clear() noexcept;

  // In flight: handed to the handler, not yet committed.
  /// An input starts: returns its entry in the partition's commit tracker.
  InFlight& begin(PartitionState& partition, std::int64_t offset);
  /// The partition's completed prefix moved on (its tracker advanced from `before` entries).
  void advanced(const PartitionState& partition, std::size_t before) noexcept;
  std::size_t in_flight() const noexcept { return in_flight_; }
  /// Whether `partition` may start another message within both in-flight bounds.
  bool has_room(const PartitionState& partition) const noexcept;

  // Parked: received beyond the in-flight bound, handled in order later.
  /// Parks `message`; past the byte or count budget the partition is paused (back-pressure).
  void park(PartitionState& partition, Message message);
  /// The partition's next parked message, when it may start now (room, no retry waiting).
  std::optional<Message> unpark(PartitionState& partition);
  /// Forgets a partition's parked messages (not handled, not committed: delivered again).
  void drop_parked(PartitionState& partition) noexcept;
  std::size_t parked() const noexcept { return parked_; }
  /// Resumes the partitions back-pressure paused once the parked messages are below half budget.
  void relieve_backpressure();
  /// Whether a partition's parked messages wait only for acknowledgements of its outputs
  /// (at the in-flight bound; not retrying, not held), given `pending_outputs`.
  bool waiting_for_room(int pending_outputs) const;

  // Pauses by reason: fetching stops with the first reason and starts again with the last.
  void pause(PartitionState& partition, PauseReason reason);
  void resume(PartitionState& partition, PauseReason reason);
  void pause_all(PauseReason reason);
  void resume_all(PauseReason reason);
  /// Paused for a reason that stops handling altogether (not a retry's or back-pressure's own wait).
  static bool held(const PartitionState& partition) noexcept;

  /// Outputs (and dead letters) of the assigned ones among `partitions` not acknowledged yet.
  int pending_acks(const rd_kafka_topic_partition_list_t* partitions);
  /// Committed offset per partition (for samples mode and tests).
  std::map<Key, std::int64_t> committed_offsets() const;

 private:
  /// Messages parked in all may hold this many bytes of keys and values.
  static constexpr std::size_t parked_bytes_budget = 8u << 20;

  PartitionState* look_up(const rd_kafka_message_t* message);

  Assigned assigned_;
  Retired retired_;
  rd_kafka_t* consumer_ = nullptr;
  WakeTime& wake_;
  // Messages come in runs from one partition: of() remembers the last lookup.
  const rd_kafka_topic_t* last_topic_ = nullptr;
  std::int32_t last_partition_ = -1;
  PartitionState* last_state_ = nullptr;
  std::size_t per_partition_;
  std::size_t max_in_flight_;
  /// At most this many parked messages (and parked_bytes_budget of keys and values): 8 x the
  /// in-flight bound. Fewer costs throughput, because fetches deliver partition-sized bursts
  /// and a paused partition's prefetch is dropped.
  std::size_t max_parked_;
  std::size_t in_flight_ = 0;
  std::size_t parked_ = 0;
  std::size_t parked_bytes_ = 0;
};

}  // namespace kernel::detail
