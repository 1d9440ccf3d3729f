#pragma once
// The ids of recently completed messages, for deduplicate(): at most `count` of them, each for
// at most `age` after it completed. Oldest-completed first out, whichever bound it meets first;
// O(1) per lookup and insertion (a list in completion order, a hash index into it). Not
// thread-safe: the middleware holds it under its own mutex.
#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kernel::detail {

class CompletedIds {
 public:
  using Clock = std::chrono::steady_clock;

  CompletedIds(std::size_t count, std::chrono::milliseconds age) : count_(count), age_(age) {}

  /// Changes the bounds; ids beyond the new ones go at the next call.
  void set_bounds(std::size_t count, std::chrono::milliseconds age) noexcept {
    count_ = count;
    age_ = age;
  }

  /// When `id` completed, if it did within the window at `now`.
  std::optional<Clock::time_point> completed(std::string_view id, Clock::time_point now) {
    expire(now);
    const auto found = index_.find(id);
    if (found == index_.end()) return std::nullopt;
    return found->second->completed;
  }

  /// Remembers `id` as completed at `now` (again, if it was already: it becomes the newest).
  void add(std::string_view id, Clock::time_point now) {
    expire(now);
    if (const auto found = index_.find(id); found != index_.end()) {
      found->second->completed = now;
      order_.splice(order_.end(), order_, found->second);
      return;
    }
    order_.push_back({std::string(id), now});
    index_.emplace(order_.back().id, std::prev(order_.end()));  // the key views the list's string
    while (order_.size() > count_) drop_oldest();
  }

  /// Forgets `id` (nothing when it is not remembered).
  void remove(std::string_view id) {
    const auto found = index_.find(id);
    if (found == index_.end()) return;
    const auto node = found->second;
    index_.erase(found);
    order_.erase(node);
  }

  std::size_t size() const noexcept { return order_.size(); }

 private:
  struct Entry {
    std::string id;
    Clock::time_point completed;
  };

  void expire(Clock::time_point now) {
    while (!order_.empty() && (order_.size() > count_ || now - order_.front().completed >= age_)) drop_oldest();
  }
  void drop_oldest() {
    index_.erase(order_.front().id);
    order_.pop_front();
  }

  std::size_t count_;
  std::chrono::milliseconds age_;
  std::list<Entry> order_;  // oldest completion first; nodes never move in memory
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

}  // namespace kernel::detail
