#pragma once
// A gate a test's handler waits at, so the test can act (inject broker errors, say) after the
// input was produced and before the kernel produces anything for it.
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace testwait {

class Gate {
 public:
  /// In the handler: says it arrived, then waits until opened (at most `timeout`).
  void pass(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex_);
    arrived_ = true;
    changed_.notify_all();
    changed_.wait_for(lock, timeout, [this] { return open_; });
  }
  /// In the test: waits until the handler arrived (false after `timeout`).
  bool wait_for_arrival(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return arrived_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool arrived_ = false;
  bool open_ = false;
};

}  // namespace testwait
