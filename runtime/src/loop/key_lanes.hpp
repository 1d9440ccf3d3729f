#pragma once
// KERNEL_ORDERING for one partition: which of its messages may start now. The messages of a
// lane (one key, the null key, or the whole partition) run one at a time, in the order they
// entered it; a later one waits behind the running one. Under `none` nothing has a lane.
//
// A lane exists while something of it runs, so the map holds at most the partition's running
// calls' lanes, and the waiting items are bounded by the partition's in-flight cap
// (KAFKA_MAX_POLL_RECORDS): they are in its commit tracker already.
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/settings.hpp"
#include "kernel/message.hpp"

namespace kernel::detail {

/// The lane of `message` under `ordering`: "" for the whole partition (`partition`, and the
/// null key under `key`), "k" followed by the key under `key` (an empty key is a key of its
/// own), nullopt under `none`.
std::optional<std::string> lane_of(Ordering ordering, const Message& message);

template <typename Item>
class KeyLanes {
 public:
  /// `item` may start now (returned) or waits behind its lane's running item (nullopt). An
  /// item without a lane always starts.
  std::optional<Item> enter(const std::optional<std::string>& lane, Item item) {
    if (lane) {
      auto [it, created] = lanes_.try_emplace(*lane);
      if (!created) {
        it->second.push_back(std::move(item));
        ++waiting_;
        return std::nullopt;
      }
    }
    ++running_;
    return item;
  }

  /// The running item of `lane` is over: returns the lane's next item, which starts now.
  std::optional<Item> leave(const std::optional<std::string>& lane) {
    --running_;
    if (!lane) return std::nullopt;
    auto it = lanes_.find(*lane);
    if (it == lanes_.end()) return std::nullopt;
    return pass_on(it);
  }

  /// Forgets the items waiting in `lane` (never started); the lane stays taken by its running item.
  void drop_lane(const std::optional<std::string>& lane) noexcept {
    if (!lane) return;
    if (auto it = lanes_.find(*lane); it != lanes_.end()) {
      waiting_ -= it->second.size();
      it->second.clear();
    }
  }

  /// Forgets every waiting item (never started); the lanes of running items stay taken.
  void drop_waiting() noexcept {
    for (auto& [lane, waiting] : lanes_) waiting.clear();
    waiting_ = 0;
  }

  /// Takes `lane` for a call that runs elsewhere: the same partition's, from before it was
  /// revoked (or rewound) and assigned again, which no one can stop. What enters the lane waits
  /// until release(). Taken as often as it is reserved.
  void reserve(const std::string& lane) {
    lanes_.try_emplace(lane);
    ++reserved_[lane];
  }
  /// A call that reserved `lane` returned: when it was the last, the lane's first waiting item
  /// starts now (returned). Nothing when the lane was not reserved.
  std::optional<Item> release(const std::string& lane) {
    const auto reservation = reserved_.find(lane);
    if (reservation == reserved_.end()) return std::nullopt;
    if (--reservation->second > 0) return std::nullopt;
    reserved_.erase(reservation);
    return pass_on(lanes_.find(lane));
  }
  /// The lanes of the items running here (not the reserved ones).
  std::vector<std::string> running_lanes() const {
    std::vector<std::string> out;
    for (const auto& [lane, waiting] : lanes_) {
      if (!reserved_.contains(lane)) out.push_back(lane);
    }
    return out;
  }

  /// Items started and not yet left.
  std::size_t running() const noexcept { return running_; }
  /// Items waiting behind a running one of their lane.
  std::size_t waiting() const noexcept { return waiting_; }

 private:
  using Lanes = std::unordered_map<std::string, std::deque<Item>>;
  /// The lane's holder is done: its first waiting item starts now (returned), or, when none
  /// waits, the lane is free again.
  std::optional<Item> pass_on(typename Lanes::iterator lane) {
    if (lane->second.empty()) {
      lanes_.erase(lane);
      return std::nullopt;
    }
    Item next = std::move(lane->second.front());
    lane->second.pop_front();
    --waiting_;
    ++running_;
    return next;
  }

  Lanes lanes_;                                    // lane -> what waits behind its running item
  std::unordered_map<std::string, int> reserved_;  // lane -> calls running elsewhere that hold it
  std::size_t running_ = 0;
  std::size_t waiting_ = 0;
};

}  // namespace kernel::detail
