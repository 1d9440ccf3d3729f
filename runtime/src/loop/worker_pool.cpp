#include "loop/worker_pool.hpp"

namespace kernel::detail {

WorkerPool::WorkerPool(std::size_t workers, Work work, std::function<void()> wake)
    : work_(std::move(work)), wake_(std::move(wake)) {
  threads_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this, i] { run(i); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();  // not started: their messages are delivered again
  }
  work_ready_.notify_all();
  // A running call cannot be interrupted (C++ has no safe way to stop a thread): it is waited for.
  for (auto& thread : threads_) thread.join();
}

void WorkerPool::submit(std::unique_ptr<Call> call) {
  ++outstanding_;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(call));
  }
  work_ready_.notify_one();
}

void WorkerPool::withdraw(const std::function<bool(const Call&)>& selected, std::vector<std::unique_ptr<Call>>& out) {
  std::lock_guard lock(mutex_);
  std::erase_if(queue_, [&](std::unique_ptr<Call>& call) {
    if (!selected(*call)) return false;
    out.push_back(std::move(call));
    --outstanding_;
    return true;
  });
}

void WorkerPool::take_completed(std::vector<std::unique_ptr<Call>>& out) {
  std::lock_guard lock(mutex_);
  outstanding_ -= completed_.size();
  for (auto& call : completed_) out.push_back(std::move(call));
  completed_.clear();
}

bool WorkerPool::wait_for_completion(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return completed_ready_.wait_until(lock, deadline, [this] { return !completed_.empty(); });
}

void WorkerPool::run(std::size_t worker) {
  while (true) {
    std::unique_ptr<Call> call;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      call = std::move(queue_.front());
      queue_.pop_front();
      busy_.fetch_add(1, std::memory_order_relaxed);
    }
    work_(*call, worker);  // never throws: the chain turns exceptions into outcomes
    bool first;
    {
      std::lock_guard lock(mutex_);
      busy_.fetch_sub(1, std::memory_order_relaxed);
      first = completed_.empty();
      completed_.push_back(std::move(call));
    }
    completed_ready_.notify_all();
    // Only the first completion of a batch wakes the loop: it drains all of them at once.
    if (first && wake_) wake_();
  }
}

}  // namespace kernel::detail
