// Producing outputs and dead letters, their delivery reports, resends, and settling what completed.
#include "loop/kernel_loop.hpp"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <deque>
#include <thread>

#include "kernel/middleware.hpp"
#include "log/logging.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

void KernelLoop::send_output(const Outgoing& output, const Message& input, InFlight& entry, int attempt) {
  const std::string* name = nullptr;
  std::string prefixed;
  if (output.topic().empty()) {
    name = &*settings_.output_topic;  // Context::produce() refuses a message without either
  } else {
    prefixed = settings_.topic_prefix + output.topic();
    name = &prefixed;
  }
  auto* headers = stamper_.stamp(output, &input, attempt);
  const auto& key = output.key();
  ++entry.pending_acks;
  ++pending_outputs_;
  produce_raw(producer_topic(*name), output.partition().value_or(RD_KAFKA_PARTITION_UA),
              key ? key->data() : nullptr, key ? key->size() : 0, output.value().data(), output.value().size(),
              headers, tag(&entry, false));
}

void KernelLoop::dead_letter(PartitionState& partition, InFlight& entry, const Message& input,
                             std::string_view error_class, FailureReason reason, std::string_view type,
                             std::string_view message, int retries) {
  log_->error("dead-lettering {}[{}]@{} to {}: {} ({}): {}", partition.topic, partition.partition, input.offset(),
              settings_.dlq_topic, to_string(reason), type, message);
  // The original headers, byte for byte, then where it came from and why it failed.
  auto* headers = rd_kafka_headers_new(input.headers().size() + 11);
  const auto& original = input.headers();
  for (std::size_t i = 0; i < original.size(); ++i) {
    const auto& [name, value] = original.entries()[i];
    // A null value stays null (no pointer), an empty one stays empty.
    rd_kafka_header_add(headers, name.c_str(), static_cast<ssize_t>(name.size()),
                        original.is_null(i) ? nullptr : value.data(), static_cast<ssize_t>(value.size()));
  }
  auto add = [headers](const char* name, std::string_view value) {
    rd_kafka_header_add(headers, name, -1, value.data(), static_cast<ssize_t>(value.size()));
  };
  char stamp[24];
  add("dlq-original-topic", input.topic());
  add("dlq-original-partition", std::to_string(input.partition()));
  add("dlq-original-offset", std::to_string(input.offset()));
  TimestampFormatter::format(input.timestamp_ms(), stamp);
  add("dlq-original-timestamp", std::string_view(stamp, sizeof stamp));
  add("dlq-kernel", kernel_name_);
  TimestampFormatter::format(std::chrono::duration_cast<milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count(), stamp);
  add("dlq-failed-at", std::string_view(stamp, sizeof stamp));
  add("dlq-error-class", error_class);
  add("dlq-failure-reason", to_string(reason));
  add("dlq-error-type", type);
  add("dlq-error-message", message);
  add("dlq-retry-count", std::to_string(retries));

  const auto key = input.key();
  ++entry.pending_acks;
  ++pending_outputs_;
  entry.handled = true;
  produce_raw(dlq_topic_, RD_KAFKA_PARTITION_UA, key ? key->data() : nullptr, key ? key->size() : 0,
              input.value().data(), input.value().size(), headers, tag(&entry, true));
}

void KernelLoop::produce_raw(rd_kafka_topic_t* topic, std::int32_t partition, const void* key,
                             std::size_t key_len, const void* value, std::size_t value_len,
                             rd_kafka_headers_t* headers, void* opaque) {
  while (true) {
    // On success librdkafka owns the headers and has copied key and value.
    const auto err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE(const_cast<void*>(value), value_len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(opaque),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      // Back-pressure, not an error: let deliveries drain.
      rd_kafka_poll(producer_.get(), 10);
      continue;
    }
    // Refused before sending (too large, unknown topic...): treated like a failed delivery.
    HeadersPtr owned(headers);  // librdkafka did not take them
    bool dead_letter = false;
    auto* entry = untag(opaque, &dead_letter);
    log_->error("cannot produce to {}: {}", rd_kafka_topic_name(topic), rd_kafka_err2str(err));
    if (!dead_letter && is_permanent_produce_error(err)) {
      --pending_outputs_;
      --entry->pending_acks;
      mark_output_failed(*entry, std::string(rd_kafka_topic_name(topic)) + ": " + rd_kafka_err2str(err));
      return;
    }
    resends_.push_back(Resend{Clock::now() + retry_policy_.delay(1), rd_kafka_topic_name(topic), partition,
                              key ? std::optional<std::string>(std::string(static_cast<const char*>(key), key_len))
                                  : std::nullopt,
                              std::string(static_cast<const char*>(value), value_len), std::move(owned), opaque, 1});
    return;
  }
}

void KernelLoop::mark_output_failed(InFlight& entry, std::string reason) {
  if (!entry.output_failed) static_cast<PartitionState*>(entry.owner)->failed_outputs++;
  entry.output_failed = true;
  entry.output_error = std::move(reason);
}

void KernelLoop::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  static_cast<KernelLoop*>(opaque)->delivered(message);
}

void KernelLoop::delivered(const rd_kafka_message_t* message) {
  bool dead_letter = false;
  auto* entry = untag(message->_private, &dead_letter);
  --pending_outputs_;
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    --entry->pending_acks;
    if (metrics_) count_produced(message);
    if (hooks_.on_delivered) hooks_.on_delivered(message, dead_letter);
    settle(*static_cast<PartitionState*>(entry->owner));
    return;
  }
  const auto* topic = rd_kafka_topic_name(message->rkt);
  if (!dead_letter && is_permanent_produce_error(message->err)) {
    log_->error("output to {} failed for good ({}); the input will be dead-lettered", topic,
                rd_kafka_err2str(message->err));
    --entry->pending_acks;
    mark_output_failed(*entry, std::string(topic) + ": " + rd_kafka_err2str(message->err));
    settle(*static_cast<PartitionState*>(entry->owner));
    return;
  }
  // A passing failure (broker away, timeout): send it again later; the partition's commit
  // waits for it.
  // One line a second at most: a broker away fails every message in flight.
  const auto now = Clock::now();
  if (now - last_resend_warning_ >= std::chrono::seconds(1)) {
    log_->warn("{} to {} not delivered ({}); sending it again{}", dead_letter ? "dead letter" : "output", topic,
               rd_kafka_err2str(message->err),
               suppressed_resend_warnings_ ? fmt::format(" ({} more like it since the last report)",
                                                         suppressed_resend_warnings_)
                                           : std::string());
    last_resend_warning_ = now;
    suppressed_resend_warnings_ = 0;
  } else {
    ++suppressed_resend_warnings_;
  }
  rd_kafka_headers_t* headers = nullptr;
  HeadersPtr copy;
  if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    copy.reset(rd_kafka_headers_copy(headers));
  }
  std::optional<std::string> key;
  if (message->key) key.emplace(static_cast<const char*>(message->key), message->key_len);
  resends_.push_back(Resend{Clock::now() + retry_policy_.delay(1), topic, message->partition, std::move(key),
                            std::string(static_cast<const char*>(message->payload), message->len), std::move(copy),
                            message->_private, 1});
  ++pending_outputs_;
}

void KernelLoop::resend_due() {
  if (resends_.empty()) return;
  const auto now = Clock::now();
  std::vector<Resend> due;
  for (auto it = resends_.begin(); it != resends_.end();) {
    if (it->due <= now) {
      due.push_back(std::move(*it));
      it = resends_.erase(it);
    } else {
      ++it;
    }
  }
  // Still counted as pending (pending_outputs_, the entry's pending_acks) while queued here.
  for (auto& resend : due) {
    produce_raw(producer_topic(resend.topic), resend.partition, resend.key ? resend.key->data() : nullptr,
                resend.key ? resend.key->size() : 0, resend.value.data(), resend.value.size(),
                resend.headers.release(), resend.opaque);
    // A resend refused for good marks its input for a dead letter: act on it now.
    bool dead_letter = false;
    settle(*static_cast<PartitionState*>(untag(resend.opaque, &dead_letter)->owner));
  }
}

void KernelLoop::settle(PartitionState& partition) {
  // Producing a dead letter below can serve delivery reports, which settle again: the outer
  // call finishes the work, so the inner one must not touch the entries it walks.
  if (settling_) return;
  settling_ = true;
  if (partition.failed_outputs > 0 && !partition.retired) dead_letter_failed_outputs(partition);
  const auto before = partition.tracker.in_flight();
  partition.tracker.advance();
  if (!partition.retired) total_in_flight_ -= before - partition.tracker.in_flight();
  settling_ = false;
}

void KernelLoop::dead_letter_failed_outputs(PartitionState& partition) {
  // An input whose output failed for good is dead-lettered (output_failed) once nothing
  // else it produced is still pending; its commit waits for that dead letter.
  for (auto& entry : partition.tracker.entries()) {
    if (!entry.output_failed || entry.pending_acks > 0 || !entry.handled || !entry.input) continue;
    entry.output_failed = false;
    --partition.failed_outputs;
    if (partition.metrics) partition.metrics->count(HandledOutcome::dead_lettered);
    dead_letter(partition, entry, *entry.input, "permanent", FailureReason::output_failed, "kernel::OutputError",
                entry.output_error, entry.retries);
  }
}

}  // namespace kernel::detail
