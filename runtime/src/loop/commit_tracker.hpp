#pragma once
// Per-partition at-least-once bookkeeping: which received offsets are still in flight, and
// the end of the contiguous completed prefix, which is what may be committed.
//
// An offset completes when its handling is over (success, business error, dead letter
// written) and every message produced for it is acknowledged. Acknowledgements arrive in any
// order; the commit point only moves past a prefix that is complete.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "kernel/message.hpp"

namespace kernel::detail {

struct InFlight;
struct PartitionState;  // the loop's (loop/partition_state.hpp)

/// What a delivery report's opaque points to: the entry a produced message belongs to, and
/// whether the message is its dead letter or one of its outputs.
struct Delivery {
  InFlight* entry;
  bool dead_letter;
};

struct InFlight {
  InFlight() = default;
  InFlight(const InFlight&) = delete;  // its Delivery members point at it
  InFlight& operator=(const InFlight&) = delete;

  std::int64_t offset = 0;
  int pending_acks = 0;              ///< produced messages not yet acknowledged
  bool handled = false;              ///< the handler's outcome has been acted upon
  bool output_failed = false;        ///< an output failed for good: dead-letter the input
  std::string output_error;          ///< why, for the dead letter
  std::optional<Message> input;      ///< kept while outputs are pending (for output_failed)
  int retries = 0;                   ///< retries made before the outcome
  int resends = 0;                   ///< its outputs' failed deliveries so far (resend backoff grows)
  bool dead_letter_blocked = false;  ///< its dead letter was refused for good (KernelLoop::block_dead_letter)
  PartitionState* owner = nullptr;   ///< the partition state it belongs to
  /// The delivery-report opaques of its outputs and of its dead letter.
  const Delivery output_delivery{this, false};
  const Delivery dead_letter_delivery{this, true};
};

class CommitTracker {
 public:
  /// Starts tracking `offset`; offsets must be increasing. The reference stays valid until
  /// the entry is released by advance().
  InFlight& begin(std::int64_t offset);
  /// Pops the completed prefix. Returns the new commit offset (last completed + 1) if it
  /// moved.
  std::optional<std::int64_t> advance();
  /// Everything below `offset` is already complete (handled before the partition was lost
  /// and assigned back): commit_offset() starts there. Only before the first begin().
  void resume_at(std::int64_t offset) noexcept { commit_offset_ = offset; }
  /// The entry for an offset, or nullptr.
  InFlight* find(std::int64_t offset);
  /// The first entry at or after `offset`, or nullptr.
  InFlight* first_from(std::int64_t offset);

  std::size_t in_flight() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  /// Offset to commit: everything below it is complete (nullopt before anything completed).
  std::optional<std::int64_t> commit_offset() const noexcept { return commit_offset_; }
  int pending_acks() const noexcept;
  std::deque<InFlight>& entries() noexcept { return entries_; }

 private:
  std::deque<InFlight> entries_;  // deque: references survive push_back and pop_front
  std::optional<std::int64_t> commit_offset_;
};

}  // namespace kernel::detail
