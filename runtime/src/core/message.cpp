#include "kernel/message.hpp"

#include <librdkafka/rdkafka.h>

#include "core/adopt_message.hpp"
#include "core/bounded_json.hpp"
#include "core/payload_format.hpp"

namespace kernel {

struct MessageStorage {
  std::string topic;
  std::optional<std::string> key;
  std::string value;
};

Message::Message(detail::ConsumedMessage&& consumed) : raw_(std::move(consumed.raw)) {
  const auto* raw = raw_.get();
  topic_ = rd_kafka_topic_name(raw->rkt);
  partition_ = raw->partition;
  offset_ = raw->offset;
  rd_kafka_timestamp_type_t type;
  const auto ms = rd_kafka_message_timestamp(raw, &type);
  timestamp_ = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms < 0 ? 0 : ms));
  if (raw->key) key_ = std::string_view(static_cast<const char*>(raw->key), raw->key_len);
  if (raw->payload) value_ = std::string_view(static_cast<const char*>(raw->payload), raw->len);
}

Message::Message(std::string topic, std::int32_t partition, std::int64_t offset, std::optional<std::string> key,
                 std::string value, Headers headers, std::chrono::system_clock::time_point timestamp)
    : partition_(partition),
      offset_(offset),
      timestamp_(timestamp),
      headers_(std::make_unique<Headers>(std::move(headers))),
      storage_(std::make_unique<MessageStorage>(MessageStorage{std::move(topic), std::move(key), std::move(value)})) {
  topic_ = storage_->topic;
  if (storage_->key) key_ = std::string_view(*storage_->key);
  value_ = storage_->value;
}

// The views point into heap objects (the librdkafka message, or storage_) that move with
// their owners: a moved Message keeps them valid.
Message::Message(Message&&) noexcept = default;
Message& Message::operator=(Message&&) noexcept = default;
Message::~Message() = default;

std::int64_t Message::timestamp_ms() const noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(timestamp_.time_since_epoch()).count();
}

const Headers& Message::headers() const {
  if (!headers_) {
    std::vector<Headers::Entry> entries;
    std::vector<std::size_t> null_values;
    rd_kafka_headers_t* raw_headers = nullptr;
    // The headers object stays owned by the message.
    if (raw_ && rd_kafka_message_headers(raw_.get(), &raw_headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* value;
      size_t size;
      for (size_t i = 0; rd_kafka_header_get_all(raw_headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i) {
        if (!value) null_values.push_back(i);
        entries.emplace_back(name, value ? std::string(static_cast<const char*>(value), size) : std::string());
      }
    }
    headers_ = std::make_unique<Headers>(std::move(entries), std::move(null_values));
  }
  return *headers_;
}

std::optional<std::string_view> Message::header(std::string_view name) const {
  if (raw_ && !headers_) {
    // Fast path: look the header up without decoding them all.
    if (no_raw_headers_) return std::nullopt;
    rd_kafka_headers_t* raw_headers = nullptr;
    if (rd_kafka_message_headers(raw_.get(), &raw_headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      no_raw_headers_ = true;
      return std::nullopt;
    }
    const void* value;
    size_t size;
    const std::string name_text(name);
    if (rd_kafka_header_get_last(raw_headers, name_text.c_str(), &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return std::nullopt;
    }
    return value ? std::string_view(static_cast<const char*>(value), size) : std::string_view();
  }
  return headers().get(name);
}

nlohmann::json Message::json() const {
  try {
    return detail::parse_bounded_json<nlohmann::json>(value_);
  } catch (const nlohmann::json::exception& error) {
    // parse_error, or out_of_range for a number a double cannot hold (1e999): the payload's fault.
    throw PermanentError(error.what(), FailureReason::deserialization_error);
  } catch (const detail::JsonTooDeep& error) {
    throw PermanentError(error.what(), FailureReason::deserialization_error);
  }
}

nlohmann::json Message::msgpack() const {
  try {
    return detail::parse_bounded_msgpack<nlohmann::json>(value_);
  } catch (const nlohmann::json::exception& error) {
    throw PermanentError(std::string("value is not MessagePack: ") + error.what(),
                         FailureReason::deserialization_error);
  } catch (const detail::JsonTooDeep& error) {
    throw PermanentError(std::string("value is not MessagePack: ") + error.what(),
                         FailureReason::deserialization_error);
  }
}

nlohmann::json Message::decode() const {
  const auto content_type = header("content-type");
  switch (detail::payload_format(content_type)) {
    case detail::PayloadFormat::json: return json();
    case detail::PayloadFormat::msgpack: return msgpack();
    case detail::PayloadFormat::other: break;
  }
  throw PermanentError("content-type \"" + std::string(*content_type) +
                           "\" has no decoder: expected application/json (or no content-type) or "
                           "application/msgpack; read value() for other payloads",
                       FailureReason::deserialization_error);
}

}  // namespace kernel
