#pragma once
// What the consumer loop shares with the HTTP server: the loop writes, the server reads.
//
// The loop thread never waits for the server: liveness and readiness are atomics it stores
// every iteration, operator pauses are requested through an atomic it reads every iteration,
// and the status is a snapshot it publishes a few times a second (a swap under a mutex the
// server holds only to copy it).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ops/pause_reasons.hpp"

namespace kernel::detail {

class KernelMetrics;
class OpsState;

/// Where the loop publishes what the operations side reads: both null when KERNEL_HTTP_PORT
/// is off. The loop knows these two, never the HTTP server that serves them.
struct Publication {
  OpsState* state = nullptr;
  KernelMetrics* metrics = nullptr;
};

/// One assigned partition, as /admin/status shows it.
struct PartitionStatus {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t position = -1;       ///< next offset the kernel will handle (-1: nothing yet)
  std::int64_t committed = -1;      ///< last committed offset (-1: none yet)
  std::int64_t low_watermark = -1;  ///< as last seen by the consumer (-1: not known yet)
  std::int64_t high_watermark = -1;
  std::int64_t lag = -1;      ///< high watermark - committed (or - low watermark)
  std::size_t in_flight = 0;  ///< received, not yet committable (bounded by KAFKA_MAX_POLL_RECORDS)
  std::size_t parked = 0;     ///< received beyond that bound, waiting to be handled
  PauseReasons paused;        ///< why it is paused
};

/// The last attempt that failed, as /admin/status shows it (`last_failure`).
struct FailureRecord {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::string error_class;  ///< business, transient, permanent or fatal
  std::string reason;       ///< its failure reason, in dlq-failure-reason's words
  std::string trace_id;     ///< the handling's W3C trace id (docs/interop.md)
  std::int64_t at_ms = 0;   ///< wall clock; 0: nothing failed yet
};

/// A fleet-wide pause in force (the control topic), as /admin/status shows it.
struct FleetPauseStatus {
  std::string topic;            ///< empty: the whole kernel
  std::int32_t partition = -1;  ///< -1: every partition of `topic`
  std::string reason;
  std::string by;
  std::string at;  ///< RFC 3339, as written by kernel-admin
};

struct StatusSnapshot {
  std::vector<PartitionStatus> partitions;
  std::size_t in_flight = 0;
  std::size_t parked = 0;
  /// A dead letter the broker refuses for good and nothing more can be cut from: what and
  /// why (empty: none). /healthz fails while it is set: its partition cannot move on.
  std::string dead_letter_blocked;
  int pending_outputs = 0;
  bool operator_paused = false;
  /// The circuit breaker: closed, open or half_open (empty: the breaker is off).
  std::string circuit;
  std::int64_t circuit_opened_at_ms = 0;  ///< wall clock of the last opening (0: never)
  std::int64_t circuit_probe_at_ms = 0;   ///< open: when the probe goes (wall clock)
  std::int64_t circuit_consecutive_failures = 0;
  FailureRecord last_failure;
  std::int64_t published_at_ms = 0;            ///< wall clock
  std::vector<FleetPauseStatus> fleet_pauses;  ///< in force, by key
};

/// Where the kernel is in its life, for /readyz.
enum class Phase : std::uint8_t {
  starting,   ///< not yet a member of its group
  ready,      ///< a member of its group (assigned, possibly nothing)
  rejoining,  ///< lost its membership (session timed out, fenced): no partitions until it rejoins
  stopping,   ///< shutting down; final
};

class OpsState {
 public:
  using Clock = std::chrono::steady_clock;

  OpsState() {
    heartbeat(Clock::now());
    slots_.push_back(std::make_unique<CallSlot>());  // the loop's
  }

  // --- Liveness: the loop beats once per iteration.
  void heartbeat(Clock::time_point now) noexcept {
    last_beat_ns_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
  }
  Clock::duration since_heartbeat() const noexcept {
    return Clock::now().time_since_epoch() - Clock::duration(last_beat_ns_.load(std::memory_order_relaxed));
  }

  // --- Handler calls (KERNEL_HANDLER_TIMEOUT): a call still running `stuck_after` after it
  // started fails liveness, naming the message. Each thread that calls the handler marks its
  // calls in a slot of its own: 0 the loop, 1 + n worker n (KERNEL_CONCURRENCY). Marked only
  // when a deadline is set: a lock per call, the slot's own, contended only by a /healthz request.
  /// Before any call is marked: `threads` slots (the loop and its workers).
  void set_stuck_after(Clock::duration after, std::size_t threads = 1) {
    std::lock_guard lock(slots_mutex_);
    while (slots_.size() < threads) slots_.push_back(std::make_unique<CallSlot>());
    stuck_after_ns_.store(after.count(), std::memory_order_relaxed);
  }
  /// A call of one message starts in `slot`; `topic` must outlive the call (call_ended()).
  void call_started(std::size_t slot, Clock::time_point now, const std::string& topic, std::int32_t partition,
                    std::int64_t offset) {
    auto& call = *slots_[slot];
    std::lock_guard lock(call.mutex);
    call.what.clear();
    call.topic = &topic;
    call.partition = partition;
    call.offset = offset;
    call.started = now;
    call.running = true;
    call.reported = false;
  }
  /// A call on the loop thread starts, named `what` ("orders[0]@15..30" for a batch).
  void call_started(Clock::time_point now, std::string what) {
    auto& call = *slots_[0];
    std::lock_guard lock(call.mutex);
    call.what = std::move(what);
    call.topic = nullptr;
    call.started = now;
    call.running = true;
    call.reported = false;
  }
  void call_ended(std::size_t slot = 0) noexcept {
    auto& call = *slots_[slot];
    std::lock_guard lock(call.mutex);
    call.running = false;
  }
  struct StuckCall {
    std::string what;         ///< "orders[0]@15"
    Clock::duration running;  ///< for how long
    bool first_report;        ///< true once per call: log it then
  };
  /// The call running past `stuck_after` the longest, if any (server thread).
  std::optional<StuckCall> stuck_call(Clock::time_point now) {
    const auto after = Clock::duration(stuck_after_ns_.load(std::memory_order_relaxed));
    if (after <= Clock::duration::zero()) return std::nullopt;
    std::lock_guard slots(slots_mutex_);
    CallSlot* stuck = nullptr;
    std::unique_lock<std::mutex> held;
    for (auto& slot : slots_) {
      std::unique_lock lock(slot->mutex);
      if (!slot->running || now - slot->started < after || (stuck && slot->started >= stuck->started)) continue;
      stuck = slot.get();
      held = std::move(lock);  // kept until it is read: the call cannot end meanwhile
    }
    if (!stuck) return std::nullopt;
    const bool first = !std::exchange(stuck->reported, true);
    auto what = stuck->topic
                    ? *stuck->topic + "[" + std::to_string(stuck->partition) + "]@" + std::to_string(stuck->offset)
                    : stuck->what;
    return StuckCall{std::move(what), now - stuck->started, first};
  }

  // --- Readiness.
  /// Any phase but `stopping` can follow any other; nothing follows `stopping` (a rebalance
  /// during shutdown must not make the kernel look ready again).
  void set_phase(Phase phase) noexcept {
    auto current = phase_.load(std::memory_order_relaxed);
    while (current != Phase::stopping && !phase_.compare_exchange_weak(current, phase, std::memory_order_relaxed)) {
    }
  }
  Phase phase() const noexcept { return phase_.load(std::memory_order_relaxed); }

  /// The consumer reported every broker connection down (loop thread, from the error
  /// callback); the first report of an outage counts.
  void brokers_down(Clock::time_point now) noexcept {
    Clock::rep none = 0;
    brokers_down_since_ns_.compare_exchange_strong(none, now.time_since_epoch().count(), std::memory_order_relaxed);
  }
  /// A broker answered again (ClusterWatch's thread).
  void brokers_up() noexcept { brokers_down_since_ns_.store(0, std::memory_order_relaxed); }
  /// How long every broker connection has been down; zero while one is up.
  Clock::duration brokers_down_for() const noexcept {
    const auto since = brokers_down_since_ns_.load(std::memory_order_relaxed);
    return since == 0 ? Clock::duration::zero() : Clock::now().time_since_epoch() - Clock::duration(since);
  }
  bool brokers_reported_down() const noexcept { return brokers_down_since_ns_.load(std::memory_order_relaxed) != 0; }

  // --- Operator pause: the server asks, the loop applies and acknowledges.
  /// Returns the request's generation (server thread).
  std::uint64_t request_operator_pause(bool paused) {
    std::lock_guard lock(pause_mutex_);
    operator_paused_wanted_.store(paused, std::memory_order_relaxed);
    return requested_generation_.fetch_add(1, std::memory_order_release) + 1;
  }
  /// The latest request's generation; the loop compares it with what it applied (one
  /// relaxed load per iteration).
  std::uint64_t requested_generation() const noexcept { return requested_generation_.load(std::memory_order_acquire); }
  bool operator_pause_wanted() const noexcept { return operator_paused_wanted_.load(std::memory_order_relaxed); }
  /// The loop applied every request up to `generation`.
  void acknowledge(std::uint64_t generation) {
    {
      std::lock_guard lock(pause_mutex_);
      applied_generation_ = generation;
    }
    applied_.notify_all();
  }
  /// Server thread: waits until the loop applied `generation` (false on timeout).
  bool wait_applied(std::uint64_t generation, std::chrono::milliseconds timeout) {
    std::unique_lock lock(pause_mutex_);
    return applied_.wait_for(lock, timeout, [&] { return applied_generation_ >= generation; });
  }
  std::uint64_t applied_generation() const {
    std::lock_guard lock(pause_mutex_);
    return applied_generation_;
  }

  // --- Status.
  /// Loop thread: swaps `next` in; `next` gets the previous snapshot back, so its vectors'
  /// storage is reused. Never waits: if the server is copying the status right now, this
  /// returns false and the loop publishes next time.
  bool publish(StatusSnapshot& next) {
    std::unique_lock lock(status_mutex_, std::try_to_lock);
    if (!lock) return false;
    std::swap(status_, next);
    return true;
  }
  StatusSnapshot status() const {
    std::lock_guard lock(status_mutex_);
    return status_;
  }

 private:
  std::atomic<Clock::rep> last_beat_ns_{0};
  std::atomic<Phase> phase_{Phase::starting};
  std::atomic<Clock::rep> brokers_down_since_ns_{0};

  mutable std::mutex pause_mutex_;
  std::condition_variable applied_;
  std::atomic<bool> operator_paused_wanted_{false};
  std::atomic<std::uint64_t> requested_generation_{0};
  std::uint64_t applied_generation_ = 0;

  /// What one thread's handler call is (KERNEL_HANDLER_TIMEOUT only).
  struct CallSlot {
    std::mutex mutex;
    Clock::time_point started{};
    bool running = false;
    bool reported = false;
    std::string what;                    ///< the name given, when `topic` is null
    const std::string* topic = nullptr;  ///< else topic[partition]@offset, formatted when reported
    std::int32_t partition = 0;
    std::int64_t offset = 0;
  };
  std::atomic<Clock::rep> stuck_after_ns_{0};
  std::mutex slots_mutex_;  // the vector, which grows only before any call is marked
  std::vector<std::unique_ptr<CallSlot>> slots_;

  mutable std::mutex status_mutex_;
  StatusSnapshot status_;
};

}  // namespace kernel::detail
