#include "loop/commit_tracker.hpp"

#include <algorithm>

namespace kernel::detail {

InFlight& CommitTracker::begin(std::int64_t offset) {
  auto& entry = entries_.emplace_back();
  entry.offset = offset;
  return entry;
}

std::optional<std::int64_t> CommitTracker::advance() {
  std::optional<std::int64_t> moved;
  while (!entries_.empty() && entries_.front().handled && entries_.front().pending_acks == 0 &&
         !entries_.front().output_failed) {
    moved = entries_.front().offset + 1;
    entries_.pop_front();
  }
  if (moved) commit_offset_ = moved;
  return moved;
}

InFlight* CommitTracker::find(std::int64_t offset) {
  auto* entry = first_from(offset);
  return entry && entry->offset == offset ? entry : nullptr;
}

InFlight* CommitTracker::first_from(std::int64_t offset) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), offset,
                             [](const InFlight& entry, std::int64_t value) { return entry.offset < value; });
  return it != entries_.end() ? &*it : nullptr;
}

int CommitTracker::pending_acks() const noexcept {
  int total = 0;
  for (const auto& entry : entries_) total += entry.pending_acks;
  return total;
}

}  // namespace kernel::detail
