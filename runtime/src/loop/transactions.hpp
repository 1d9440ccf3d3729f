#pragma once
// Exactly-once (KERNEL_DELIVERY=exactly_once, docs/exactly-once.md): the producer's Kafka
// transaction. Everything the loop produces (outputs, dead letters, retry-topic and error-topic
// records) goes into the open transaction, and the inputs' offsets are committed in it
// (rd_kafka_send_offsets_to_transaction with the consumer's group metadata, KIP-447), so the
// outputs and the commit become visible together or not at all.
//
// One object per producer; loop thread only. The loop decides when (each commit interval, on
// revocation, at shutdown) and what (the completed prefixes); this class runs the calls and
// sorts librdkafka's errors: retriable (call again until the deadline), abortable (abort; the
// loop redoes the work), fatal (a fenced producer among them: stop).
#include <chrono>
#include <memory>
#include <string>

#include <librdkafka/rdkafka.h>
#include <spdlog/logger.h>

namespace kernel::detail {

class Transaction {
 public:
  using Clock = std::chrono::steady_clock;

  /// How a commit or an abort ended.
  enum class Result {
    committed,   ///< outputs and offsets are visible (or there was nothing to commit)
    must_abort,  ///< refused (abortable error, or retriable past the deadline): call abort()
    aborted,     ///< nothing of it is visible; the loop must redo the work from the committed offsets
    fatal,       ///< the producer cannot go on (fenced, or another fatal error): stop, exit 70
  };

  /// `producer` has transactional.id `id`; `consumer` gives the group metadata sent with the
  /// offsets. Both outlive this object.
  Transaction(rd_kafka_t* producer, rd_kafka_t* consumer, std::string id, std::shared_ptr<spdlog::logger> log);

  /// rd_kafka_init_transactions: registers the id with its coordinator, fencing any earlier
  /// producer with the same id and aborting what that one left open. Throws StartupError:
  /// 69 when the coordinator does not answer within `timeout`, 70 when librdkafka refuses.
  void init(std::chrono::milliseconds timeout);

  /// Begins a transaction unless one is open (lazily, before anything is produced). False when
  /// the producer has failed for good (the loop then stops on its fatal error).
  bool begin();
  bool open() const noexcept { return open_; }

  /// Sends `offsets` (may be empty) into the open transaction (beginning one if needed) and
  /// commits it. Retriable errors are retried until `deadline`; past it, or on an abortable
  /// error, Result::must_abort: the caller retires what the transaction covered, then calls
  /// abort() (which serves the purged messages' delivery reports).
  Result commit(const rd_kafka_topic_partition_list_t* offsets, Clock::time_point deadline);
  /// Aborts the open transaction (nothing of it becomes visible). Result::aborted or ::fatal.
  Result abort(Clock::time_point deadline);

  const std::string& id() const noexcept { return id_; }
  /// Why the producer failed for good, naming the transactional.id; says "another instance took
  /// over" when it was fenced.
  std::string fatal_reason() const;
  /// Whether `err` is one of the codes a fenced producer gets.
  static bool is_fenced(rd_kafka_resp_err_t err) noexcept;

 private:
  /// Logs a warning when the cluster is librdkafka's mock (the embedded or development broker),
  /// which accepts transactions without isolating them (docs/exactly-once.md).
  void warn_on_mock_cluster() const;

  /// Calls `call` until it succeeds, fails for good, or `deadline` passes (then the last error).
  template <typename Call>
  rd_kafka_error_t* retry_until(Clock::time_point deadline, Call&& call);
  Result failed(rd_kafka_error_t* error, std::string_view what);

  rd_kafka_t* producer_;
  rd_kafka_t* consumer_;
  std::string id_;
  std::shared_ptr<spdlog::logger> log_;
  bool open_ = false;
};

}  // namespace kernel::detail
