// The classification of produce errors (documented in docs/failure-handling.md; keep both in
// step). librdkafka retries passing errors itself up to KAFKA_PRODUCER_MAX_ATTEMPTS before a
// delivery report carries them; the loop then sends again with growing backoff.
#include "loop/produce_errors.hpp"

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

}  // namespace kernel::detail
