#pragma once
// A partition's messages for KernelSpec::batch_handler (docs/batches.md): those collected for
// the next batch, and a failed batch (or the failed part of one) waiting for its retry. Both
// hold their messages in offset order with their commit-tracker entries; a message stays
// uncommitted while it is here. The executor that runs them is batch_executor.cpp.
#include <chrono>
#include <cstddef>
#include <vector>

#include "kernel/message.hpp"
#include "loop/commit_tracker.hpp"

namespace kernel::detail {

/// Messages with their in-flight entries, in offset order (messages contiguous: a Batch views them).
struct BatchMessages {
  std::vector<Message> messages;
  std::vector<InFlight*> entries;

  std::size_t size() const noexcept { return messages.size(); }
  bool empty() const noexcept { return messages.empty(); }
  void push_back(Message message, InFlight* entry) {
    messages.push_back(std::move(message));
    entries.push_back(entry);
  }
  /// Removes and returns the first `count` (all when fewer).
  BatchMessages take_front(std::size_t count) {
    BatchMessages front;
    if (count >= size()) {
      std::swap(front, *this);
      return front;
    }
    const auto cut = static_cast<std::ptrdiff_t>(count);
    front.messages.assign(std::make_move_iterator(messages.begin()), std::make_move_iterator(messages.begin() + cut));
    front.entries.assign(entries.begin(), entries.begin() + cut);
    messages.erase(messages.begin(), messages.begin() + cut);
    entries.erase(entries.begin(), entries.begin() + cut);
    return front;
  }
  void clear() noexcept {
    messages.clear();
    entries.clear();
  }
};

struct PartitionBatch {
  using Clock = std::chrono::steady_clock;

  BatchMessages collected;     ///< the next batch, filling up
  Clock::time_point first_at;  ///< when the first of `collected` arrived
  BatchMessages retrying;      ///< failed transiently, run again as a batch at `retry_due`
  int retry_attempt = 0;       ///< the attempt number `retrying` runs as
  Clock::time_point retry_due;

  /// Everything, unhandled: it stays uncommitted and is delivered again.
  void clear() noexcept {
    collected.clear();
    retrying.clear();
    retry_attempt = 0;
  }
};

}  // namespace kernel::detail
