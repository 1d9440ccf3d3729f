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

#include "config/settings.hpp"
#include "core/completion_hook.hpp"
#include "kernel/batch.hpp"
#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/exit_codes.hpp"
#include "kernel/handler.hpp"
#include "kernel/spec.hpp"
#include "loop/breaker_gate.hpp"
#include "loop/call_executor.hpp"
#include "loop/commit_tracker.hpp"
#include "loop/disposition.hpp"
#include "loop/inline_executor.hpp"
#include "loop/loop_status.hpp"
#include "loop/output_sender.hpp"
#include "loop/partition_table.hpp"
#include "loop/retry_policy.hpp"
#include "loop/retry_scheduler.hpp"
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
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> committed_offsets() const {
    return table_.committed_offsets();
  }
  std::size_t in_flight() const noexcept { return table_.in_flight(); }
  const Settings& settings() const noexcept { return config_.settings(); }
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
  /// the breaker) is counted and logged here and kept by the caller (RetryScheduler::keep(), a lane,
  /// a batch). `on_completed`: what the attempt's chain left waiting for a completed conclusion
  /// (ContextAccess::on_completed), run only when the disposition completes the message; their
  /// undo waits in the partition until the input's offset is committed.
  void conclude(PartitionState& partition, InFlight& entry, Message& message, const Outcome& outcome, int attempt,
                const Disposition& disposition, const std::vector<Outgoing>& outputs,
                std::vector<CompletionHook>* on_completed = nullptr);
  void handle_now(PartitionState& partition, Message message);
  /// Hands parked messages over as room is made.
  void drain_parked();
  void run_due_retries();
  /// Runs the retry waiting in `partition`'s slot now (when due, or as the breaker's probe); a
  /// retry that fails again waits in the slot again.
  void retry_now(PartitionState& partition);
  /// Serves delivery reports and resends, flushing past linger.ms, until no output of
  /// `partitions` (all when null) is pending or `deadline` passes.
  void wait_for_outputs(Clock::time_point deadline, const rd_kafka_topic_partition_list_t* partitions = nullptr);
  void settle(PartitionState& partition) override;
  /// A fatal librdkafka error in `client`: records the cause and stops (exit 70).
  void stop_on_fatal_error(rd_kafka_t* client) override;

  // librdkafka callbacks (served on the loop thread).
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                           void* opaque);
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void assign(rd_kafka_topic_partition_list_t* partitions);
  void revoke(rd_kafka_topic_partition_list_t* partitions, bool lost);

  // Commits (loop_commits.cpp): the strategy KERNEL_DELIVERY chose, and what the loop lends it.
  class CommitHostOfLoop;
  /// Chooses the commit strategy once the clients are up (`transaction`: exactly-once's, initialised).
  void start_commits(std::unique_ptr<Transaction> transaction);
  /// Acts on a commit's or an abort's result (a fatal producer error stops the loop, an abort
  /// while stopping fails it); true when it is CommitResult::done.
  bool commit_answered(CommitResult result);

  int shutdown();

  Config config_;
  Chain chain_;
  std::shared_ptr<spdlog::logger> log_;
  LoopHooks hooks_;
  Context context_;

  /// In-place retries, retry topics and when the loop wakes next (before table_ and output_,
  /// which use them).
  RetryScheduler retries_;
  /// The assigned partitions, the revoked ones still referred to, in-flight and parked counts.
  PartitionTable table_;
  HandlePtr consumer_;
  QueuePtr consumer_queue_;  // where asynchronous commit results come back (served by consumer_poll)
  /// The producer, what it sends and its delivery reports.
  OutputSender output_;

  OpsState* ops_ = nullptr;           // null when KERNEL_HTTP_PORT is off
  KernelMetrics* metrics_ = nullptr;  // likewise
  /// What the loop publishes for the HTTP server, and the operator pause it applies.
  LoopStatus status_;
  /// The circuit breaker's side of the loop (after table_ and status_, which it uses).
  BreakerGate breaker_;

  bool settling_ = false;    // settle() is running (re-entered through delivery reports)
  bool subscribed_ = false;  // rd_kafka_subscribe() succeeded
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> joined_{false};
  int exit_code_ = exit_code::ok;
  std::string fatal_reason_;
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
  /// The control topic's reader (fleet-wide pauses); null until start().
  std::unique_ptr<FleetCommands> fleet_;
};

}  // namespace kernel::detail
