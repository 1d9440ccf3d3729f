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

#include "kernel/batch.hpp"
#include "kernel/config.hpp"
#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/exit_codes.hpp"
#include "kernel/handler.hpp"
#include "kernel/spec.hpp"
#include "loop/batch_collector.hpp"
#include "loop/circuit_breaker.hpp"
#include "loop/commit_tracker.hpp"
#include "loop/disposition.hpp"
#include "loop/output_sender.hpp"
#include "loop/retry_policy.hpp"
#include "loop/standard_headers.hpp"
#include "loop/transactions.hpp"
#include "loop/worker_pool.hpp"
#include "ops/cluster_watch.hpp"
#include "ops/kernel_metrics.hpp"
#include "ops/ops_state.hpp"

namespace kernel::detail {

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
  std::size_t outputs_ahead_of_commit() const noexcept { return outputs_ahead_of_commit_; }

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
  /// The broker acknowledged `offset` as the partition's committed offset: the completions of
  /// the inputs below it can no longer be lost.
  void mark_committed(PartitionState& partition, std::int64_t offset);
  /// The partition's uncommitted work is dropped (handed over, rewound): what its completions
  /// did is undone, so a redelivery here runs again.
  static void undo_uncommitted(PartitionState& partition) noexcept;
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
  /// Commits each partition's completed prefix (only those in `only` when given). Synchronous:
  /// blocks for the broker's answer and returns false when any offset was refused.
  bool commit_completed(bool synchronous, const rd_kafka_topic_partition_list_t* only = nullptr);
  PartitionListPtr committable_offsets(const rd_kafka_topic_partition_list_t* only);
  /// Serves delivery reports and resends, flushing past linger.ms, until no output of
  /// `partitions` (all when null) is pending or `deadline` passes.
  void wait_for_outputs(Clock::time_point deadline, const rd_kafka_topic_partition_list_t* partitions = nullptr);
  int pending_outputs_of(const rd_kafka_topic_partition_list_t* partitions);
  /// Why a commit is still owed: "orders[0]@15, orders[1]@7" (empty when none).
  std::string uncommitted_summary();
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
  // Handler deadline (handler_deadline.cpp): the call through the chain, timed; /healthz
  // watches it in OpsState's slot `slot` (0 the loop, 1 + n worker n).
  Outcome call_handler(const PartitionState& partition, Message& message, Context& context, std::size_t slot = 0);
  /// The outcome call_handler() made of a call that returned past its deadline (dead-lettered,
  /// once out of retries, as `timeout`; a handler's own TransientError stays `retries_exhausted`).
  static bool handler_timed_out(const Outcome& outcome) noexcept {
    return outcome.reason == FailureReason::timeout && outcome.error_type == handler_timeout_type;
  }
  static constexpr std::string_view handler_timeout_type = "kernel::HandlerTimeout";

  // Batches (batches.cpp): KernelSpec::batch_handler's messages, collected per partition.
  void init_batches(const KernelSpec& spec);
  /// The batch handler as a single-message handler (a batch of one), for the paths that run
  /// one message: a retry topic's head that was not due, a breaker probe.
  static Handler one_message_batch(BatchHandler handler, TransientTypes transient);
  /// Adds a message to its partition's next batch; hands the batch over when it is full.
  void collect(PartitionState& partition, InFlight& entry, Message message);
  /// Housekeeping: hands over batches past KERNEL_BATCH_TIMEOUT and runs due batch retries.
  void hand_over_batches(Clock::time_point now);
  /// Nothing earlier of the partition waits (a retry) and nothing holds it (operator, breaker).
  bool may_hand_over(const PartitionState& partition) const noexcept;
  /// One call of the batch handler with `batch` as attempt `attempt`, concluded per message.
  void run_batch(PartitionState& partition, BatchMessages batch, int attempt);
  /// The call itself, exceptions turned into the whole batch's Outcome, timed against
  /// KERNEL_HANDLER_TIMEOUT. The one place a batch handler runs (a worker could run it).
  Outcome call_batch_handler(const PartitionState& partition, Batch& batch);
  /// A whole batch failed transiently: waits (partition paused) to run again as `attempt`.
  void retry_batch_later(PartitionState& partition, BatchMessages batch, int attempt, std::chrono::milliseconds delay);
  /// Shutdown: hands over what was collected (unless a retry or a hold comes first), then
  /// drops what waits for a retry (delivered again).
  void finish_batches();
  /// Revocation: a partition's collected and retrying messages are dropped unhandled (uncommitted,
  /// delivered again).
  void drop_batch(PartitionState& partition) noexcept;
  // Concurrency (concurrent_calls.cpp): with KERNEL_CONCURRENCY > 1, process() hands each call
  // to a worker through its KERNEL_ORDERING lane; the loop concludes what comes back.
  void start_workers();
  void submit_call(PartitionState& partition, InFlight& entry, Message message, int attempt);
  void launch(std::unique_ptr<Call> call);
  /// A partition became held (breaker, operator): its calls still queued for a worker wait on
  /// the loop instead.
  void hold_queued_calls();
  /// Gives up a call that did not start, with what waits behind it in its lane.
  void abandon(Call& call);
  void call_on_worker(Call& call, std::size_t worker);  // on a worker thread
  void conclude_calls();
  void finish_call(std::unique_ptr<Call> call);
  void leave_lane(Call& call);
  /// A partition assigned again (or rewound) while calls from its earlier state still run on
  /// workers: their lanes stay taken in `fresh` until they return, so a key never runs twice at once.
  void reserve_lanes_of_running_calls(PartitionState& fresh);
  void run_waiting_calls(Clock::time_point now);
  /// The breaker's probe from the calls waiting for it; false when none waits.
  bool probe_with_waiting_call();
  /// Revocation and shutdown: drops what has not started in `only` (all when null), lets the
  /// running calls return until `deadline` and concludes them.
  void finish_running_calls(Clock::time_point deadline, const rd_kafka_topic_partition_list_t* only);

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
  static void on_commit(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                        void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void assign(rd_kafka_topic_partition_list_t* partitions);
  void resume_lost_progress(rd_kafka_topic_partition_list_t* partitions);
  void revoke(rd_kafka_topic_partition_list_t* partitions, bool lost);

  // Operations (loop_operations.cpp): all on the loop thread, none waits for the server.
  void apply_operator_pause();
  void publish_status(std::chrono::steady_clock::time_point now);
  static bool held(const PartitionState& partition) noexcept;

  // Exactly-once (exactly_once.cpp): commits go through the producer's transaction.
  /// Begins the transaction before a produce (lazily); false when the producer failed for good.
  bool begin_transaction() override;
  /// Flushes the outputs and commits the completed prefixes of every partition in the
  /// transaction; false when it was aborted (the work is redone) or the producer failed.
  bool commit_transaction();
  void abort_transaction();
  /// A record of the open transaction was not delivered: librdkafka will not commit it, so it
  /// is aborted at once (run(), or the commit waiting for it). An output refused for good marks
  /// its input undeliverable. False when the usual handling applies (a revoked partition's
  /// record, a purge during an abort, a fatal error).
  bool transaction_record_failed(const rd_kafka_message_t& message, const Delivery& delivery) override;
  /// Exactly-once: an input marked undeliverable by an aborted transaction is dead-lettered
  /// (output_failed) instead of handled again. False when it is not marked.
  bool dead_letter_undeliverable(PartitionState& partition, InFlight& entry, const Message& input);
  bool end_transaction(Transaction::Result result, const rd_kafka_topic_partition_list_t* offsets);
  /// After an abort: every assigned partition starts again at its committed offset once
  /// `delay` has passed (paused for PauseReason::retry meanwhile).
  void rewind_to_committed(std::chrono::milliseconds delay);
  /// Resumes the partitions rewound by an abort once their backoff is over.
  void redo_when_due(Clock::time_point now);
  // With workers, a concluded call's records wait until every lower offset of its partition
  // is concluded, so each transaction holds only records of inputs its offsets commit.
  void hold(Resend record) override;
  /// Produces, in offset order, the held records of the entries concluded from the partition's
  /// `released_until` on, up to the first entry that is not.
  void release_held(PartitionState& partition);
  /// Forgets the held records of a partition whose unconcluded work is dropped (revoked, rewound).
  static void drop_held(PartitionState& partition) noexcept;
  /// Notes, before a transaction commits, each partition whose records in it include one of an
  /// input the commit does not cover (outputs_ahead_of_commit()).
  void check_commit_covers_outputs(const rd_kafka_topic_partition_list_t* offsets);

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
  std::chrono::steady_clock::time_point next_commit_;
  /// The earliest of the loop's own work due at a known time on a partition not held: an
  /// in-place (or retry-topic head) retry, a batch's retry or timeout, a worker call's retry;
  /// max when none waits. run() polls no longer than until then (poll_timeout.hpp); its
  /// housekeeping finds it again, and work scheduled in between adds itself with wake_at().
  std::chrono::steady_clock::time_point next_due_ = std::chrono::steady_clock::time_point::max();
  /// Set when shutdown starts: every wait of the stop (revocation included) ends by then.
  std::optional<std::chrono::steady_clock::time_point> stop_deadline_;
  // Periodic commits wait while the member is between generations (a commit answered
  // "rebalancing", or a revocation) until the assignment that ends the rebalance or, at the
  // latest, the rebalance timeout.
  bool commits_held_ = false;
  bool rejoin_follows_ = false;  // a cooperative revocation: its assignment is followed by a join
  std::chrono::steady_clock::time_point commits_held_since_{};
  // Where the completed work of partitions librdkafka declared lost had got to (the commit
  // offset that could not be committed). If the same partitions come back and the group's
  // committed offset is still below it, the loop resumes from there instead of redoing it.
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> lost_progress_;
  // KernelSpec::batch_handler (empty for a single-message kernel).
  BatchHandler batch_handler_;
  TransientTypes transient_errors_;
  std::size_t collected_messages_ = 0;                  // in every partition's batches, collected or retrying
  prometheus::Histogram* batch_size_metric_ = nullptr;  // kernel_batch_size (metrics on)
  // KERNEL_CONCURRENCY > 1 (concurrent_calls.cpp); workers_ is null otherwise.
  std::unique_ptr<WorkerPool> workers_;
  std::vector<Context> worker_contexts_;                // one per worker, copies of context_
  std::vector<std::unique_ptr<Call>> waiting_calls_;    // a retry's backoff, a held partition
  std::vector<std::unique_ptr<Call>> completed_calls_;  // drained from the pool, reused
  /// The producer's transaction; KERNEL_DELIVERY=exactly_once only (null otherwise).
  std::unique_ptr<Transaction> transaction_;
  std::size_t outputs_ahead_of_commit_ = 0;
  bool transaction_failed_ = false;  // a record of the open transaction was not delivered: abort it
  /// Exactly-once: transactions aborted since the last commit that carried offsets; the
  /// rewound partitions wait the backoff of retry number aborts_in_a_row_ before the redo.
  int aborts_in_a_row_ = 0;
  /// Exactly-once: when the partitions rewound by the last abort start again (none waiting: nullopt).
  std::optional<Clock::time_point> redo_due_;
};

}  // namespace kernel::detail
