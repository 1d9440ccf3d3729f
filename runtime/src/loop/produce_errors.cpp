// The classification of produce errors (documented in docs/failure-handling.md; keep both in
// step), and what the output sender does with a failed produce. librdkafka retries passing
// errors itself up to KAFKA_PRODUCER_MAX_ATTEMPTS before a delivery report carries them; the
// sender then sends again with growing backoff.
#include "loop/produce_errors.hpp"

#include <fmt/format.h>

#include "loop/output_sender.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

ProduceErrorKind classify_produce_error(rd_kafka_resp_err_t err) noexcept {
  switch (err) {
    // Too large for the producer's message.max.bytes or the broker's limits.
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:  // librdkafka uses the broker code for its own check too
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE: return ProduceErrorKind::too_large;

    // Local refusals that no resend can change.
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:  // a partition the topic does not have
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:      // metadata says the topic does not exist
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__INVALID_TYPE:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    // Broker refusals of this record or this topic.
    case RD_KAFKA_RESP_ERR_INVALID_MSG:  // corrupt record: the same bytes fail again
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:  // an invalid topic name
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED: return ProduceErrorKind::final;

    // The producer itself is done for: after a fatal error librdkafka purges what was queued
    // (_PURGE_QUEUE / _PURGE_INFLIGHT, checked by the caller against rd_kafka_fatal_error) and
    // refuses every new message with _FATAL.
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE:
    case RD_KAFKA_RESP_ERR__INCONSISTENT:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED: return ProduceErrorKind::fatal;

    // Everything else passes: _MSG_TIMED_OUT, _TRANSPORT, _ALL_BROKERS_DOWN, _QUEUE_FULL,
    // NOT_ENOUGH_REPLICAS(_AFTER_APPEND), LEADER_NOT_AVAILABLE, NOT_LEADER_FOR_PARTITION,
    // REQUEST_TIMED_OUT, UNKNOWN_TOPIC_OR_PART (a broker's metadata may lag), KAFKA_STORAGE_ERROR,
    // THROTTLING_QUOTA_EXCEEDED, _PURGE_* without a fatal error, and codes added later.
    default: return ProduceErrorKind::passing;
  }
}

void OutputSender::produce_failed(Resend failed, rd_kafka_resp_err_t err) {
  // The message still counts as pending (pending_outputs_, its entry's pending_acks) until
  // it is given up here or acknowledged after a resend.
  auto* entry = failed.delivery->entry;
  const bool dead_letter = failed.delivery->dead_letter;
  auto& partition = *entry->owner;
  auto give_up = [&] {
    --pending_outputs_;
    --entry->pending_acks;
  };
  const bool producer_failed = rd_kafka_fatal_error(producer_.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR;
  const auto kind = producer_failed ? ProduceErrorKind::fatal : classify_produce_error(err);
  if (kind == ProduceErrorKind::fatal) {
    // Nothing more can be produced: stop at once. The entry keeps its pending ack, so its
    // input is never committed and is delivered again after a restart.
    --pending_outputs_;
    events_.stop_on_fatal_error(producer_.get());
    return;
  }
  if (partition.retired) {
    give_up();  // handed over in a rebalance: its next owner handles the input again
    unblock_dead_letter(*entry);
    return;
  }
  const char* what = dead_letter ? "dead letter" : "output";
  if (!dead_letter && kind != ProduceErrorKind::passing) {
    log_produce_failure(spdlog::level::err, fmt::format("output to {} failed for good ({}); the input will be "
                                                        "dead-lettered (output_failed)",
                                                        failed.topic, rd_kafka_err2str(err)));
    give_up();
    mark_output_failed(*entry, failed.topic + ": " + rd_kafka_err2str(err));
    events_.settle(partition);
    return;
  }
  if (dead_letter && kind == ProduceErrorKind::too_large && shrink_dead_letter(failed)) {
    log_->warn(
        "dead letter to {} refused as too large ({}); sending it again cut further (value {} bytes, key {} "
        "bytes; once the value is gone, half of the original headers' bytes, the largest first)",
        failed.topic, rd_kafka_err2str(err), failed.value.size(), failed.key ? failed.key->size() : 0);
    failed.due = Clock::now();
  } else {
    // A passing failure (broker away, timeout), or a dead letter that cannot be written yet:
    // send it again later with growing backoff; the partition's commit waits for it.
    ++entry->resends;
    const auto delay = retry_policy_.delay(entry->resends);
    failed.due = Clock::now() + delay;
    if (dead_letter) {
      if (kind != ProduceErrorKind::passing) {
        // No resend can change this answer: an operator must (grant access, raise the
        // topic's max.message.bytes). Said in /readyz, /healthz and the metrics until written.
        block_dead_letter(*entry, fmt::format("dead letter of {}[{}]@{} to {} refused for good: {}", partition.topic,
                                              partition.partition, entry->offset, failed.topic, rd_kafka_err2str(err)));
      }
      dead_letter_write_failed(failed.topic, err, delay);
    } else {
      log_produce_failure(kind == ProduceErrorKind::passing ? spdlog::level::warn : spdlog::level::err,
                          fmt::format("{} to {} not delivered ({}); sending it again in {} ms", what, failed.topic,
                                      rd_kafka_err2str(err), delay.count()));
    }
  }
  resends_.push_back(std::move(failed));
}

void OutputSender::log_produce_failure(spdlog::level::level_enum level, std::string text) {
  // One line a second at most: a broker away fails every message in flight.
  const auto now = Clock::now();
  if (now - last_resend_warning_ < std::chrono::seconds(1)) {
    ++suppressed_resend_warnings_;
    return;
  }
  if (suppressed_resend_warnings_ > 0) {
    text += fmt::format(" ({} more {} since the last report)", suppressed_resend_warnings_,
                        suppressed_resend_warnings_ == 1 ? "failure" : "failures");
  }
  log_->log(level, "{}", text);
  last_resend_warning_ = now;
  suppressed_resend_warnings_ = 0;
}

}  // namespace kernel::detail
