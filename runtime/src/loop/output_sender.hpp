#pragma once
// The output sender: the loop's producer and everything it sends (outputs, dead letters,
// retry-topic and error-topic records), the delivery reports that follow them, resends after
// a passing failure, and what a refusal means (produce_errors.hpp). It counts the records not
// yet acknowledged; an input's commit waits for its own (InFlight::pending_acks).
//
// What the sender cannot decide alone it asks the loop through OutputEvents: only off the
// per-message path (a failure, a resend, exactly-once's gates). A delivery report that
// acknowledges a record answers with a value instead (delivered()).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include <librdkafka/rdkafka.h>

#include "kernel/config.hpp"
#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/errors.hpp"
#include "kernel/message.hpp"
#include "kernel/outcome.hpp"
#include "kernel/outgoing.hpp"
#include "loop/commit_tracker.hpp"
#include "loop/retry_policy.hpp"
#include "loop/standard_headers.hpp"

namespace prometheus {
class Counter;
}

namespace kernel::detail {

class ExactlyOnceCommits;

class KernelMetrics;
class Transaction;

/// A copy of a produced record, to produce later: a resend after a passing failure, or a
/// record held back (exactly-once with workers).
struct Resend {
  std::chrono::steady_clock::time_point due;
  std::string topic;
  std::int32_t partition;
  std::optional<std::string> key;
  std::string value;
  HeadersPtr headers;
  const Delivery* delivery;
};

/// What the sender needs of the loop. Implemented by KernelLoop; none is called per message
/// on the at-least-once path.
class OutputEvents {
 public:
  /// The partition's completed prefix may have moved (a resend went out, an output failed).
  virtual void settle(PartitionState& partition) = 0;
  /// A fatal error in `client` (the producer): the kernel stops, exit 70.
  virtual void stop_on_fatal_error(rd_kafka_t* client) = 0;

 protected:
  ~OutputEvents() = default;
};

class OutputSender {
 public:
  using Clock = std::chrono::steady_clock;

  /// `config`, `kernel_name`, `retry_policy` (the resends' backoff) and `events` outlive the
  /// sender; `metrics` is null when metrics are off.
  OutputSender(OutputEvents& events, const Config& config, const std::string& kernel_name,
               std::shared_ptr<spdlog::logger> log, RetryPolicy& retry_policy, KernelMetrics* metrics);
  OutputSender(const OutputSender&) = delete;
  OutputSender& operator=(const OutputSender&) = delete;

  /// Takes the producer (its delivery reports come to the loop, which passes them to delivered()).
  void set_producer(HandlePtr producer) noexcept { producer_ = std::move(producer); }
  /// Opens the dead-letter and error topics and reads message.max.bytes, which a dead letter
  /// must fit. `exactly_once` (null otherwise) begins the transaction every record goes into,
  /// takes the records it does not deliver (it aborts) and, with `hold_until_ordered`
  /// (exactly-once with workers), keeps a record until the entries below its input are
  /// concluded (must_hold(), partition_state.hpp).
  void start(ExactlyOnceCommits* exactly_once, bool hold_until_ordered);
  /// The producer, for what the loop does with it itself (polls, flushes, the transaction).
  rd_kafka_t* producer() const noexcept { return producer_.get(); }
  /// Topic handles and queued resends go before the clients.
  void release_topics() noexcept;
  void release_producer() noexcept { producer_.reset(); }

  /// Produces a handler's output (standard headers stamped) for `entry`.
  void send_output(const Outgoing& output, const Message& input, InFlight& entry, int attempt);
  /// Produces `input` as a dead letter (original bytes, dlq-* headers; cut to fit) to the
  /// dead-letter topic, or to `to` (the error topic) without counting or logging it as one.
  /// Dead-letters (output_failed) the inputs of `partition` an output of which failed for good,
  /// once nothing else they produced is pending; their commits wait for those dead letters.
  void dead_letter_failed_outputs(PartitionState& partition);
  void dead_letter(PartitionState& partition, InFlight& entry, const Message& input, std::string_view error_class,
                   FailureReason reason, std::string_view type, std::string_view message, int retries,
                   rd_kafka_topic_t* to = nullptr);
  /// KAFKA_ERROR_TOPIC: a business error's input, with the dead-letter headers (its commit
  /// waits for the acknowledgement).
  void publish_business_error(PartitionState& partition, InFlight& entry, const Message& input, const Outcome& outcome,
                              int retries);
  /// Produces a record of `entry` to `topic` as built by the caller (a retry topic's copy).
  void send_record(const std::string& topic, std::optional<std::string_view> key, std::string_view value,
                   HeadersPtr headers, InFlight& entry);
  /// Produces a record the loop held back (exactly-once with workers).
  void produce_held(Resend& record);

  /// A delivery report: the record's Delivery when it was acknowledged (the loop settles its
  /// partition), null when it failed (sent again later, given up, or the kernel stops).
  const Delivery* delivered(const rd_kafka_message_t* message);
  /// Sends again the resends that are due.
  void resend_due();
  /// Drops the resends queued for a partition that is handed over (its next owner produces them).
  void drop_resends(PartitionState& partition);

  /// Records produced and not acknowledged (resends queued included).
  int pending() const noexcept { return pending_outputs_; }
  /// Records on their way: run() polls briefly to serve their reports and resends.
  bool busy() const noexcept { return pending_outputs_ > 0 || !resends_.empty(); }
  /// Dead letters refused for good and not written since (/readyz, kernel_dead_letters_blocked).
  std::size_t blocked_dead_letters() const noexcept { return blocked_dead_letters_; }
  /// What the last refusal of a dead letter said.
  const std::string& dead_letter_refusal() const noexcept { return dead_letter_blocked_; }

 private:
  /// Produces one message; `headers` pass to librdkafka only if it accepts the message.
  void produce_raw(rd_kafka_topic_t* topic, std::int32_t partition, const void* key, std::size_t key_len,
                   const void* value, std::size_t value_len, HeadersPtr headers, const Delivery& delivery);
  rd_kafka_topic_t* producer_topic(const std::string& name);
  /// Produces a copy made by produce_raw() (a resend, a held record).
  void produce_again(Resend& resend);
  /// A produce refused or not delivered: send again later, dead-letter the input, shrink a
  /// dead letter, or stop on a fatal producer error (see produce_errors.hpp).
  void produce_failed(Resend failed, rd_kafka_resp_err_t err);
  /// A dead letter refused for good: counted once per entry until written or handed over.
  /// An output of `entry` failed for good: its input is dead-lettered (output_failed) once
  /// nothing else of it is pending (dead_letter_failed_outputs()).
  static void mark_output_failed(InFlight& entry, std::string reason);
  void block_dead_letter(InFlight& entry, std::string what);
  void unblock_dead_letter(InFlight& entry) noexcept;
  /// Halves a dead letter's value and records its original size; false when nothing is left to cut.
  static bool shrink_dead_letter(Resend& resend);
  void log_produce_failure(spdlog::level::level_enum level, std::string text);
  /// A dead-letter write failed for a passing reason and is sent again after `delay`: counts
  /// it and warns at most every 30 s (dead_letter_writes.cpp).
  void dead_letter_write_failed(const std::string& topic, rd_kafka_resp_err_t err, std::chrono::milliseconds delay);
  void count_produced(const rd_kafka_message_t* message);

  OutputEvents& events_;
  const Config& config_;
  std::string_view kernel_name_;
  std::shared_ptr<spdlog::logger> log_;
  RetryPolicy& retry_policy_;
  KernelMetrics* metrics_;
  HeaderStamper stamper_;
  HandlePtr producer_;
  std::unordered_map<std::string, TopicPtr> producer_topics_;
  rd_kafka_topic_t* output_topic_ = nullptr;  // KAFKA_OUTPUT_TOPIC's, found once at start; null when unset
  rd_kafka_topic_t* dlq_topic_ = nullptr;
  rd_kafka_topic_t* error_topic_ = nullptr;    // KAFKA_ERROR_TOPIC, null when unset
  std::size_t message_max_bytes_ = 1000000;    // the producer's message.max.bytes, read at start
  ExactlyOnceCommits* transaction_ = nullptr;  // exactly-once's commits (null: at-least-once)
  bool hold_until_ordered_ = false;
  int pending_outputs_ = 0;
  std::vector<Resend> resends_;
  std::vector<std::pair<const rd_kafka_topic_t*, prometheus::Counter*>> produced_counters_;
  Clock::time_point last_resend_warning_{};
  int suppressed_resend_warnings_ = 0;
  Clock::time_point last_dead_letter_warning_{};
  int suppressed_dead_letter_warnings_ = 0;
  /// Dead letters refused for good and not written since (InFlight::dead_letter_blocked), and
  /// what the last refusal said.
  std::size_t blocked_dead_letters_ = 0;
  std::string dead_letter_blocked_;
};

}  // namespace kernel::detail
