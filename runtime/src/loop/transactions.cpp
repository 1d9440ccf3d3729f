// The producer's Kafka transaction under exactly-once delivery (see transactions.hpp).
#include "loop/transactions.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/exit_codes.hpp"
#include "loop/kernel_loop.hpp"

namespace kernel::detail {

namespace {

struct GroupMetadataDeleter {
  void operator()(rd_kafka_consumer_group_metadata_t* metadata) const noexcept {
    rd_kafka_consumer_group_metadata_destroy(metadata);
  }
};
using GroupMetadataPtr = std::unique_ptr<rd_kafka_consumer_group_metadata_t, GroupMetadataDeleter>;

int remaining_ms(Transaction::Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Transaction::Clock::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 1, 60000));
}

}  // namespace

Transaction::Transaction(rd_kafka_t* producer, rd_kafka_t* consumer, std::string id,
                         std::shared_ptr<spdlog::logger> log)
    : producer_(producer), consumer_(consumer), id_(std::move(id)), log_(std::move(log)) {}

bool Transaction::is_fenced(rd_kafka_resp_err_t err) noexcept {
  return err == RD_KAFKA_RESP_ERR__FENCED || err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
         err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH ||
         err == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
}

std::string Transaction::fatal_reason() const {
  std::array<char, 512> text{};
  const auto err = rd_kafka_fatal_error(producer_, text.data(), text.size());
  if (err != RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED && is_fenced(err)) {
    return "producer fenced: another instance took over transactional.id " + id_ +
           " (the same KERNEL_TRANSACTIONAL_ID, or group, inputs and KERNEL_INSTANCE_ID); " + text.data();
  }
  return "transactional producer " + id_ + " failed for good: " +
         (err ? std::string(rd_kafka_err2name(err)) + ": " + text.data() : std::string("fatal librdkafka error"));
}

void Transaction::init(std::chrono::milliseconds timeout) {
  ErrorPtr error(rd_kafka_init_transactions(producer_, static_cast<int>(timeout.count())));
  if (!error) {
    warn_on_mock_cluster();
    return;
  }
  const auto code = rd_kafka_error_code(error.get());
  if (code == RD_KAFKA_RESP_ERR__TIMED_OUT || rd_kafka_error_is_retriable(error.get())) {
    throw StartupError(exit_code::unavailable,
                       "the transaction coordinator did not register transactional.id " + id_ + " within " +
                           std::to_string(timeout.count()) + " ms (" + rd_kafka_error_string(error.get()) +
                           "); check the brokers (transactions need a cluster that supports them), or raise "
                           "KERNEL_STARTUP_TIMEOUT");
  }
  throw StartupError(exit_code::software, "cannot start transactions for transactional.id " + id_ + ": " +
                                              rd_kafka_error_string(error.get()));
}

void Transaction::warn_on_mock_cluster() const {
  // librdkafka's mock cluster (the embedded broker, kernel-dev-broker) names itself this way.
  // It takes transactions without isolating them: say so where a user would trust the result.
  constexpr std::string_view mock_prefix = "mockCluster";
  // Normally known by now (init_transactions reached a broker); waits at most this otherwise.
  constexpr int metadata_wait_ms = 1000;
  const auto free_id = [this](char* id) { rd_kafka_mem_free(producer_, id); };
  const std::unique_ptr<char, decltype(free_id)> id(rd_kafka_clusterid(producer_, metadata_wait_ms), free_id);
  if (!id) return;
  const std::string cluster(id.get());
  if (!cluster.starts_with(mock_prefix)) return;
  log_->warn(
      "exactly-once on a development broker (librdkafka's mock cluster {}): transactions run, but it shows "
      "records of aborted transactions to read_committed readers and keeps no offsets committed in a "
      "transaction (a restart starts again from KAFKA_CONSUMER_START_OFFSET), so duplicates downstream are "
      "possible here; the guarantee needs a Kafka cluster",
      cluster);
}

bool Transaction::begin() {
  if (open_) return true;
  ErrorPtr error(rd_kafka_begin_transaction(producer_));
  if (error) {
    log_->error("cannot begin a transaction ({}): {}", id_, rd_kafka_error_string(error.get()));
    return false;
  }
  open_ = true;
  return true;
}

template <typename Call>
rd_kafka_error_t* Transaction::retry_until(Clock::time_point deadline, Call&& call) {
  while (true) {
    rd_kafka_error_t* error = call(remaining_ms(deadline));
    if (!error || !rd_kafka_error_is_retriable(error) || Clock::now() >= deadline) return error;
    log_->debug("transaction {}: {} (retrying)", id_, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  }
}

Transaction::Result Transaction::failed(rd_kafka_error_t* raw, std::string_view what) {
  ErrorPtr error(raw);
  if (rd_kafka_error_is_fatal(error.get())) {
    open_ = false;
    return Result::fatal;
  }
  log_->warn("{} of transaction {} failed ({}); aborting it: its work is done again", what, id_,
             rd_kafka_error_string(error.get()));
  return Result::must_abort;
}

Transaction::Result Transaction::commit(const rd_kafka_topic_partition_list_t* offsets, Clock::time_point deadline) {
  const bool any_offsets = offsets && offsets->cnt > 0;
  if (!open_ && !any_offsets) return Result::committed;  // nothing produced, nothing to commit
  if (!begin()) return rd_kafka_fatal_error(producer_, nullptr, 0) ? Result::fatal : Result::must_abort;
  if (any_offsets) {
    // The group's metadata (generation, member id) lets the coordinator refuse offsets from a
    // member that no longer owns the partitions (KIP-447).
    GroupMetadataPtr metadata(rd_kafka_consumer_group_metadata(consumer_));
    if (auto* error = retry_until(deadline, [&](int timeout) {
          return rd_kafka_send_offsets_to_transaction(producer_, offsets, metadata.get(), timeout);
        })) {
      return failed(error, "sending the offsets");
    }
  }
  if (auto* error =
          retry_until(deadline, [&](int timeout) { return rd_kafka_commit_transaction(producer_, timeout); })) {
    return failed(error, "the commit");
  }
  open_ = false;
  return Result::committed;
}

Transaction::Result Transaction::abort(Clock::time_point deadline) {
  if (!open_) return Result::aborted;
  // Purges what was not sent yet; their delivery reports come back with _PURGE_* errors.
  auto* raw = retry_until(deadline, [&](int timeout) { return rd_kafka_abort_transaction(producer_, timeout); });
  ErrorPtr error(raw);
  if (error && (rd_kafka_error_is_fatal(error.get()) || rd_kafka_fatal_error(producer_, nullptr, 0))) {
    open_ = false;
    return Result::fatal;
  }
  if (error) {
    // Not aborted in time: the coordinator aborts it after transaction.timeout.ms, or when the
    // next producer with this id starts. Nothing of it is ever visible either way.
    log_->error("aborting transaction {} failed ({}); the broker aborts it when it times out", id_,
                rd_kafka_error_string(error.get()));
    open_ = false;
    return Result::fatal;
  }
  open_ = false;
  return Result::aborted;
}

}  // namespace kernel::detail
