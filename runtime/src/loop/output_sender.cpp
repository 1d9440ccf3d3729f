// Producing records and following them: the producer's topics, produce calls, delivery
// reports and resends. Refusals are produce_errors.cpp; dead letters, dead_letter_writes.cpp.
#include "loop/output_sender.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

#include "loop/exactly_once_commits.hpp"
#include "loop/partition_state.hpp"
#include "loop/transactions.hpp"
#include "ops/kernel_metrics.hpp"

namespace kernel::detail {

OutputSender::OutputSender(OutputEvents& events, const Config& config, const std::string& kernel_name,
                           std::shared_ptr<spdlog::logger> log, RetryPolicy& retry_policy, KernelMetrics* metrics)
    : events_(events),
      config_(config),
      kernel_name_(kernel_name),
      log_(std::move(log)),
      retry_policy_(retry_policy),
      metrics_(metrics),
      stamper_(kernel_name) {}

void OutputSender::start(ExactlyOnceCommits* exactly_once, bool hold_until_ordered) {
  transaction_ = exactly_once;
  hold_until_ordered_ = hold_until_ordered;
  const auto& settings = config_.settings();
  dlq_topic_ = producer_topic(settings.dlq_topic);
  if (settings.output_topic) output_topic_ = producer_topic(*settings.output_topic);
  if (settings.error_topic) error_topic_ = producer_topic(*settings.error_topic);
  // The size a dead letter must fit (KAFKA_PROPERTY_MESSAGE_MAX_BYTES may have changed it).
  std::array<char, 32> max_bytes{};
  std::size_t size = max_bytes.size();
  if (rd_kafka_conf_get(rd_kafka_conf(producer_.get()), "message.max.bytes", max_bytes.data(), &size) ==
      RD_KAFKA_CONF_OK) {
    message_max_bytes_ = std::strtoull(max_bytes.data(), nullptr, 10);
  }
}

void OutputSender::release_topics() noexcept {
  output_topic_ = nullptr;
  producer_topics_.clear();
  resends_.clear();
}

rd_kafka_topic_t* OutputSender::producer_topic(const std::string& name) {
  auto it = producer_topics_.find(name);
  if (it == producer_topics_.end()) {
    it = producer_topics_.emplace(name, TopicPtr(rd_kafka_topic_new(producer_.get(), name.c_str(), nullptr))).first;
  }
  return it->second.get();
}

void OutputSender::send_output(const Outgoing& output, const Message& input, InFlight& entry, int attempt) {
  // The kernel's own output topic was found at start (Context::produce() refuses a message
  // without either); only a named topic is looked up, with its prefix (a reply's reply-to is
  // named in full).
  auto* topic = output.topic().empty()    ? output_topic_
                : output.topic_is_exact() ? producer_topic(output.topic())
                                          : producer_topic(config_.settings().topic_prefix + output.topic());
  auto headers = stamper_.stamp(output, &input, attempt);
  const auto& key = output.key();
  ++entry.pending_acks;
  ++pending_outputs_;
  produce_raw(topic, output.partition().value_or(RD_KAFKA_PARTITION_UA), key ? key->data() : nullptr,
              key ? key->size() : 0, output.value().data(), output.value().size(), std::move(headers),
              entry.output_delivery);
}

void OutputSender::send_record(const std::string& topic, std::optional<std::string_view> key, std::string_view value,
                               HeadersPtr headers, InFlight& entry) {
  // The input's commit waits for this record's acknowledgement, as for an output.
  ++entry.pending_acks;
  ++pending_outputs_;
  produce_raw(producer_topic(topic), RD_KAFKA_PARTITION_UA, key ? key->data() : nullptr, key ? key->size() : 0,
              value.data(), value.size(), std::move(headers), entry.output_delivery);
}

void OutputSender::produce_held(Resend& record) {
  ++pending_outputs_;
  produce_again(record);
}

void OutputSender::produce_raw(rd_kafka_topic_t* topic, std::int32_t partition, const void* key, std::size_t key_len,
                               const void* value, std::size_t value_len, HeadersPtr headers, const Delivery& delivery) {
  // The delivery report hands the opaque back (delivered()); librdkafka never writes through it.
  auto* opaque = const_cast<Delivery*>(&delivery);
  auto copy = [&] {
    return Resend{{},
                  rd_kafka_topic_name(topic),
                  partition,
                  key ? std::optional<std::string>(std::string(static_cast<const char*>(key), key_len)) : std::nullopt,
                  std::string(static_cast<const char*>(value), value_len),
                  std::move(headers),
                  &delivery};
  };
  if (hold_until_ordered_ && must_hold(*delivery.entry)) {
    // Exactly-once with workers: produced once the offsets below its input are concluded.
    // Still counted in its entry's pending_acks, no longer here: a commit waits only for
    // what was produced.
    --pending_outputs_;
    ExactlyOnceCommits::hold(copy());
    return;
  }
  if (transaction_ && !transaction_->begin()) {
    events_.stop_on_fatal_error(producer_.get());  // the producer failed for good
    return;
  }
  while (true) {
    const auto err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key, key_len),
        RD_KAFKA_V_VALUE(const_cast<void*>(value), value_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      (void)headers.release();  // accepted: the message owns its headers now (key and value were copied)
      if (transaction_) {
        auto& produced = delivery.entry->owner->produced_in_transaction;
        produced = std::max(produced, delivery.entry->offset);
      }
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      // Back-pressure, not an error: let deliveries drain.
      rd_kafka_poll(producer_.get(), 10);
      continue;
    }
    // Refused before sending (too large, unknown partition...): handled like a failed delivery.
    produce_failed(copy(), err);
    return;
  }
}

const Delivery* OutputSender::delivered(const rd_kafka_message_t* message) {
  const auto* delivery = static_cast<const Delivery*>(message->_private);  // produce_raw()'s opaque
  auto* entry = delivery->entry;
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    --pending_outputs_;
    --entry->pending_acks;
    if (metrics_) count_produced(message);
    if (delivery->dead_letter && entry->dead_letter_blocked) {
      log_->info("the dead letter of {}[{}]@{} refused before was written to {}", entry->owner->topic,
                 entry->owner->partition, entry->offset, rd_kafka_topic_name(message->rkt));
      unblock_dead_letter(*entry);
    }
    return delivery;
  }
  if (transaction_ && transaction_->record_failed(*message, *delivery)) {
    // Given up: the transaction is aborted, and its work done again.
    --pending_outputs_;
    --entry->pending_acks;
    return nullptr;
  }
  rd_kafka_headers_t* headers = nullptr;
  HeadersPtr copy;
  if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    copy.reset(rd_kafka_headers_copy(headers));
  }
  std::optional<std::string> key;
  if (message->key) key.emplace(static_cast<const char*>(message->key), message->key_len);
  produce_failed(Resend{{},
                        rd_kafka_topic_name(message->rkt),
                        message->partition,
                        std::move(key),
                        std::string(static_cast<const char*>(message->payload), message->len),
                        std::move(copy),
                        delivery},
                 message->err);
  return nullptr;
}

void OutputSender::count_produced(const rd_kafka_message_t* message) {
  // Outputs go to a few topics: a short list by topic handle, found by name only once. Replies
  // may go to many: past KernelMetrics::max_produced_topics they share one counter, found by
  // name each time, so that the list stays short.
  for (const auto& [topic, counter] : produced_counters_) {
    if (topic == message->rkt) {
      counter->Increment();
      return;
    }
  }
  auto& counter = metrics_->produced(rd_kafka_topic_name(message->rkt));
  if (produced_counters_.size() < KernelMetrics::max_produced_topics)
    produced_counters_.emplace_back(message->rkt, &counter);
  counter.Increment();
}

void OutputSender::resend_due() {
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
    auto* owner = resend.delivery->entry->owner;
    produce_again(resend);
    // A resend refused for good marks its input for a dead letter: act on it now.
    events_.settle(*owner);
  }
}

void OutputSender::produce_again(Resend& resend) {
  produce_raw(producer_topic(resend.topic), resend.partition, resend.key ? resend.key->data() : nullptr,
              resend.key ? resend.key->size() : 0, resend.value.data(), resend.value.size(), std::move(resend.headers),
              *resend.delivery);
}

void OutputSender::drop_resends(PartitionState& partition) {
  std::erase_if(resends_, [&](const Resend& resend) {
    auto* entry = resend.delivery->entry;
    if (entry->owner != &partition) return false;
    --pending_outputs_;
    --entry->pending_acks;
    unblock_dead_letter(*entry);  // its next owner meets the refusal, if any
    return true;
  });
}

}  // namespace kernel::detail
