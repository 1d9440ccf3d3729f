#pragma once
// The consumer loop: poll -> Message -> middleware chain -> handler -> outcome ->
// (commit tracker | retry | dead letter) -> commit. One thread does all of it; librdkafka's
// callbacks (rebalance, delivery reports, commits) are served on that thread too.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>

#include <librdkafka/rdkafka.h>

#include "core/completion_hook.hpp"
#include "kernel/batch.hpp"
#include "kernel/config.hpp"
#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/exit_codes.hpp"
#include "kernel/handler.hpp"
#include "kernel/spec.hpp"
#include "loop/call_executor.hpp"
#include "loop/circuit_breaker.hpp"
#include "loop/commit_tracker.hpp"
#include "loop/disposition.hpp"
#include "loop/inline_executor.hpp"
#include "loop/output_sender.hpp"
#include "loop/retry_policy.hpp"
#include "loop/standard_headers.hpp"
#include "loop/transactions.hpp"
#include "ops/cluster_watch.hpp"
#include "ops/kernel_metrics.hpp"
#include "ops/ops_state.hpp"

namespace kernel::detail {

class CommitHost;
class CommitStrategy;
enum class CommitResult;

/// Start-up failed: exit with `code` (69 unavailable, 77 auth/TLS, 70 librdkafka).
class StartupError : public std::runtime_error {
 public:
  StartupError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

/// Observers for tools and tests (samples mode, the fixture).
struct LoopHooks {
  /// An output or dead letter was acknowledged by the broker.
  std::function<void(const rd_kafka_message_t*, bool dead_letter)> on_delivered;
  /// The assignment changed (after it was applied).
  std::function<void()> on_assignment_changed;
  /// Checked every iteration; true stops the loop like a signal would.
  std::function<bool()> should_stop;
};

class KernelLoop final : private OutputEvents {
  friend class ExecutorHost;  // an executor's narrow view of the loop (executor_host.hpp)

 public:
  /// `published` (null members: HTTP off) receives liveness, readiness, status and metrics,
  /// and brings operator pauses; it must outlive the loop.
  KernelLoop(Config config, const KernelSpec& spec, std::shared_ptr<spdlog::logger> logger, LoopHooks hooks = {},
             Publication published = {});
  ~KernelLoop();
  KernelLoop(const KernelLoop&) = delete;
  KernelLoop& operator=(const KernelLoop&) = delete;

  /// Creates the clients and subscribes; the brokers and topics were checked before
  /// (verify_topics, run/topics.hpp). Throws StartupError.
  void start();
  /// Runs until stopped; returns the exit code.
  int run();
  /// Waits for the calls still running on workers and releases the clients (the destructor
  /// does it otherwise). run_loop() calls it under the shutdown watchdog: a call that never
  /// returns must not keep a stopping process alive.
  void close() noexcept;
  /// Safe from any thread and from a signal handler.
  void request_stop() noexcept { stop_requested_.store(true, std::memory_order_relaxed); }
  bool stopping() const noexcept { return stop_requested_.load(std::memory_order_relaxed); }
  /// Has had an assignment (is a member of the group).
  bool joined() const noexcept { return joined_.load(std::memory_order_relaxed); }

  /// Committed offset per "topic/partition" (for samples mode and tests; loop thread only).
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> committed_offsets() const;
  std::size_t in_flight() const noexcept { return total_in_flight_; }
  const Settings& settings() const noexcept { return settings_; }
  int pending_outputs() const noexcept { return output_.pending(); }
  /// Exactly-once: how many times a partition had a record in a committed transaction whose
  /// input offset that commit did not cover (a crash would then handle the input again and
  /// duplicate the record). Always 0 unless the loop is wrong; for tests, loop thread only.
  std::size_t outputs_ahead_of_commit() const noexcept;

 private:
  // Set-up.
  HandlePtr make_client(rd_kafka_type_t type, const std::vector<Property>& properties);
  using Clock = std::chrono::steady_clock;

  // The loop.
  void handle(MessagePtr raw);
  /// One attempt: calls the handler through the chain and concludes with its outcome.
  void process(PartitionState& partition, InFlight& entry, Message& message, int attempt);
  // Concluding an attempt (conclude.cpp): decide() says what its outcome means, the loop does it.
  /// What an attempt's outcome means (disposition.hpp), once it is counted in the breaker when
  /// `count_in_breaker` (a batch counts its call once, not each message).
  Disposition disposition_of(PartitionState& partition, const Message& message, const Outcome& outcome, int attempt,
                             bool count_in_breaker);
  /// Carries out `disposition`: sends `outputs` and completes, publishes a business error,
  /// moves to a retry topic, dead-letters, or stops. Loop thread only; the seam where work done
  /// elsewhere (workers, batches) comes back. A disposition that waits (retry in place, hold for
  /// the breaker) is counted and logged here and kept by the caller (keep_for_retry(), a lane,
  /// a batch). `on_completed`: what the attempt's chain left waiting for a completed conclusion
  /// (ContextAccess::on_completed), run only when the disposition completes the message; their
  /// undo waits in the partition until the input's offset is committed.
  void conclude(PartitionState& partition, InFlight& entry, Message& message, const Outcome& outcome, int attempt,
                const Disposition& disposition, const std::vector<Outgoing>& outputs,
                std::vector<CompletionHook>* on_completed = nullptr);
  /// A call made on the loop thread waits for its retry in the partition's retry slot, the
  /// partition paused.
  void keep_for_retry(PartitionState& partition, InFlight& entry, const Disposition& disposition);
  void run_due_retries();
  // Retry topics (retry_topics.cpp).
  /// 0 for an input topic, n for `.retry.n` (cached in the partition state).
  int retry_level(PartitionState& partition);
  /// A retry topic's head not due yet: moves `message` into the retry slot, pauses the
  /// partition and returns true (run_due_retries() handles it when due).
  bool wait_until_due(PartitionState& partition, InFlight& entry, Message& message);
  /// Produces `message` to the retry topic `.retry.<next>` (the input's commit waits for the record).
  void move_to_retry_topic(PartitionState& partition, InFlight& entry, const Message& message, const Outcome& outcome,
                           int attempt, int next);
  /// Serves delivery reports and resends, flushing past linger.ms, until no output of
  /// `partitions` (all when null) is pending or `deadline` passes.
  void wait_for_outputs(Clock::time_point deadline, const rd_kafka_topic_partition_list_t* partitions = nullptr);
  int pending_outputs_of(const rd_kafka_topic_partition_list_t* partitions);
  void settle(PartitionState& partition) override;
  void dead_letter_failed_outputs(PartitionState& partition);
  void mark_output_failed(InFlight& entry, std::string reason) override;
  /// A fatal librdkafka error in `client`: records the cause and stops (exit 70).
  void stop_on_fatal_error(rd_kafka_t* client) override;

  // Circuit breaker (circuit_breaker.cpp): fed with each call's class, it pauses every
  // partition (PauseReason::breaker) while open and runs one waiting retry as the probe.
  void breaker_answered();
  /// After a transient failure; true when the circuit is not closed (the failure then spends
  /// none of the message's retries).
  bool breaker_failed(const PartitionState& partition, const Message& message);
  void breaker_tick(std::chrono::steady_clock::time_point now);
  void breaker_changed(CircuitBreaker::State state);
  /// Partitions assigned while the circuit is not closed start paused.
  void breaker_hold_assigned(const rd_kafka_topic_partition_list_t* partitions);
  void publish_breaker(StatusSnapshot& snapshot);
  // Pauses.
  void pause(PartitionState& partition, PauseReason reason);
  /// Something of the loop's own is due at `due`: run() polls no longer than until then.
  void wake_at(Clock::time_point due) noexcept { next_due_ = std::min(next_due_, due); }
  void resume(PartitionState& partition, PauseReason reason);
  void check_backpressure();
  bool has_room(const PartitionState& partition) const noexcept;
  /// Whether a partition's parked messages wait only for acknowledgements of its outputs
  /// (it is at the in-flight cap; not retrying, not held).
  bool waiting_for_room() const;
  void handle_now(PartitionState& partition, Message message);
  void drain_parked();
  /// Forgets a partition's parked messages (not handled, not committed: delivered again).
  void drop_parked(PartitionState& partition) noexcept;

  // librdkafka callbacks (served on the loop thread).
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                           void* opaque);
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void assign(rd_kafka_topic_partition_list_t* partitions);
  void revoke(rd_kafka_topic_partition_list_t* partitions, bool lost);

  // Operations (loop_operations.cpp): all on the loop thread, none waits for the server.
  void apply_operator_pause();
  void publish_status(std::chrono::steady_clock::time_point now);
  static bool held(const PartitionState& partition) noexcept;

  // Commits (loop_commits.cpp): the strategy KERNEL_DELIVERY chose, and what the loop lends it.
  class CommitHostOfLoop;
  /// Chooses the commit strategy once the clients are up (`transaction`: exactly-once's, initialised).
  void start_commits(std::unique_ptr<Transaction> transaction);
  /// Acts on a commit's or an abort's result (a fatal producer error stops the loop, an abort
  /// while stopping fails it); true when it is CommitResult::done.
  bool commit_answered(CommitResult result);
  /// After an aborted transaction: every assigned partition starts again at its committed
  /// offset once `delay` has passed (paused for PauseReason::retry meanwhile). False when none
  /// had received anything since it was assigned.
  bool rewind_to_committed(std::chrono::milliseconds delay);
  // What the output sender asks under exactly-once (OutputEvents), passed to the commit strategy.
  bool begin_transaction() override;
  void hold(Resend record) override;
  bool transaction_record_failed(const rd_kafka_message_t& message, const Delivery& delivery) override;

  PartitionState* find_partition(const char* topic, std::int32_t partition);
  PartitionState* partition_of(const rd_kafka_message_t* message);
  int shutdown();

  Config config_;
  const Settings& settings_;
  std::string kernel_name_;
  Chain chain_;
  std::shared_ptr<spdlog::logger> log_;
  LoopHooks hooks_;
  RetryPolicy retry_policy_;
  CircuitBreaker breaker_;
  std::int64_t breaker_opened_at_ms_ = 0;  // wall clock, for /admin/status
  Context context_;

  HandlePtr consumer_;
  QueuePtr consumer_queue_;  // where asynchronous commit results come back (served by consumer_poll)
  /// The producer, what it sends and its delivery reports.
  OutputSender output_;
  std::vector<std::string> retry_topic_names_;  // KERNEL_RETRY_TOPICS, .retry.1 first (empty: in place)

  std::map<std::pair<std::string, std::int32_t>, std::unique_ptr<PartitionState>> partitions_;
  // Revoked partitions whose outputs were still unacknowledged: kept so delivery reports
  // find their entries.
  std::vector<std::unique_ptr<PartitionState>> retired_;
  const rd_kafka_topic_t* last_topic_ = nullptr;  // partition_of() cache
  std::int32_t last_partition_ = -1;
  PartitionState* last_state_ = nullptr;

  OpsState* ops_ = nullptr;                // null when KERNEL_HTTP_PORT is off
  KernelMetrics* metrics_ = nullptr;       // likewise
  std::uint64_t operator_generation_ = 0;  // the last operator request applied
  bool operator_paused_ = false;
  bool assignment_changed_ = false;
  std::chrono::steady_clock::time_point publish_due_{};
  StatusSnapshot status_;                        // refilled and swapped with the published one
  std::unique_ptr<ClusterWatch> cluster_watch_;  // watermarks of paused partitions (ops on)

  std::size_t total_in_flight_ = 0;
  std::size_t total_parked_ = 0;
  bool settling_ = false;
  bool subscribed_ =
      false;  // rd_kafka_subscribe() succeeded  // settle() is running (re-entered through delivery reports)
  std::size_t parked_bytes_ = 0;
  /// Messages received beyond the in-flight cap wait here, up to this many bytes in all.
  static constexpr std::size_t parked_bytes_budget = 8u << 20;
  std::size_t max_in_flight_total_;
  /// Messages received beyond the in-flight cap wait here, at most this many (and
  /// parked_bytes_budget of keys and values): 8 x the in-flight cap. Fewer costs throughput,
  /// because fetches deliver partition-sized bursts and a paused partition's prefetch is dropped.
  std::size_t max_parked_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> joined_{false};
  int exit_code_ = exit_code::ok;
  std::string fatal_reason_;
  FailureRecord last_failure_;  // /admin/status's last_failure
  /// The earliest of the loop's own work due at a known time on a partition not held: an
  /// in-place (or retry-topic head) retry, a batch's retry or timeout, a worker call's retry;
  /// max when none waits. run() polls no longer than until then (poll_timeout.hpp); its
  /// housekeeping finds it again, and work scheduled in between adds itself with wake_at().
  std::chrono::steady_clock::time_point next_due_ = std::chrono::steady_clock::time_point::max();
  /// Set when shutdown starts: every wait of the stop (revocation included) ends by then.
  std::optional<std::chrono::steady_clock::time_point> stop_deadline_;
  // How handler calls run (call_executor.hpp): on this thread, the loop's own path per message;
  // executor_ is the batches' or the workers' (null when every call runs on this thread).
  InlineExecutor inline_calls_;
  std::unique_ptr<CallExecutor> executor_;
  /// How completed work is committed (KERNEL_DELIVERY), and the view of the loop it is lent;
  /// null until start().
  std::unique_ptr<CommitHost> commit_host_;
  std::unique_ptr<CommitStrategy> commits_;
};

}  // namespace kernel::detail
