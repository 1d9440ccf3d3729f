#pragma once
/// A message a handler produces, built fluently:
///
///   ctx.produce(kernel::Outgoing{}.key(message.key()).json(doc).event_type("order.enriched"));
///
/// Each setter has an rvalue overload, so a chain on a temporary moves into produce() without a
/// copy. The runtime stamps the standard headers (event-id, correlation-id, causation-id, source,
/// timestamp, content-type, and event-type, conversation-id, schema-version, retry-count when
/// they have a value) when it sends the message.
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "kernel/headers.hpp"

namespace google::protobuf {
class Message;
class Descriptor;
}  // namespace google::protobuf

namespace kernel {

enum class ContentType { json, text, bytes, msgpack, protobuf, avro };

/// The `content-type` header of each ContentType.
std::string_view content_type_header(ContentType type) noexcept;

class Outgoing {
 public:
  /// Topic to send to; empty means the kernel's output topic. KAFKA_TOPIC_PREFIX is
  /// prepended when it is sent.
  Outgoing& topic(std::string name) & {
    topic_ = std::move(name);
    exact_topic_ = false;
    return *this;
  }
  Outgoing&& topic(std::string name) && { return std::move(topic(std::move(name))); }
  /// A topic named as the brokers know it: KAFKA_TOPIC_PREFIX is not prepended (a request's
  /// `reply-to`, which Context::reply() uses). Judged by the reply rule (KERNEL_REPLY_TOPICS).
  Outgoing& exact_topic(std::string name) & {
    topic_ = std::move(name);
    exact_topic_ = true;
    return *this;
  }
  Outgoing&& exact_topic(std::string name) && { return std::move(exact_topic(std::move(name))); }

  Outgoing& key(std::string key) & {
    key_ = std::move(key);
    return *this;
  }
  Outgoing&& key(std::string key) && { return std::move(this->key(std::move(key))); }
  /// A std::string_view, or a key that may be null such as the input's: `.key(message.key())`
  /// keeps it as it is, null included. (A template, so that nothing converts to it by surprise.)
  template <class View>
  requires std::same_as<std::remove_cvref_t<View>, std::string_view> ||
      std::same_as<std::remove_cvref_t<View>, std::optional<std::string_view>>
          Outgoing& key(View&& key) & {
    const std::optional<std::string_view> view = key;
    if (view)
      key_.emplace(*view);
    else
      key_.reset();
    return *this;
  }
  template <class View>
  requires std::same_as<std::remove_cvref_t<View>, std::string_view> ||
      std::same_as<std::remove_cvref_t<View>, std::optional<std::string_view>>
          Outgoing && key(View&& key) && {
    return std::move(this->key(std::forward<View>(key)));
  }

  Outgoing& partition(std::int32_t partition) & {
    partition_ = partition;
    return *this;
  }
  Outgoing&& partition(std::int32_t partition) && { return std::move(this->partition(partition)); }

  /// A JSON document (content-type application/json).
  Outgoing& json(const nlohmann::json& document) &;
  Outgoing&& json(const nlohmann::json& document) && { return std::move(json(document)); }
  /// JSON text already serialised (content-type application/json).
  Outgoing& json_text(std::string text) & { return set_value(std::move(text), ContentType::json); }
  Outgoing&& json_text(std::string text) && { return std::move(json_text(std::move(text))); }
  /// A document encoded as MessagePack (content-type application/msgpack), with nlohmann's
  /// to_msgpack: the smallest encoding of each number and string. The input's
  /// Message::msgpack() or decode() reads it back.
  Outgoing& msgpack(const nlohmann::json& document) &;
  Outgoing&& msgpack(const nlohmann::json& document) && { return std::move(msgpack(document)); }
  /// A Protobuf message in Confluent's wire format (content-type application/x-protobuf): the
  /// magic byte, the id of its schema in the schema registry, its message index, its bytes.
  /// The schema is registered under the subject of the topic the message goes to
  /// (`<topic>-value`, or its full name with KAFKA_SCHEMA_REGISTRY_SUBJECT_STRATEGY=record)
  /// when produce() is called, once per topic; docs/interop.md#schema-registry.
  Outgoing& protobuf(const google::protobuf::Message& message) &;
  Outgoing&& protobuf(const google::protobuf::Message& message) && { return std::move(protobuf(message)); }
  /// `value` encoded as the Avro schema `schema` (JSON text) in Confluent's wire format
  /// (content-type application/avro), the schema registered as protobuf()'s is at produce().
  /// Defined in kernel::avro: a kernel that calls it links that library (docs/interop.md#avro).
  /// Throws PermanentError (schema_mismatch) naming the field that does not fit.
  Outgoing& avro(const nlohmann::json& value, std::string schema) &;
  Outgoing&& avro(const nlohmann::json& value, std::string schema) && {
    return std::move(avro(value, std::move(schema)));
  }
  /// Text (content-type text/plain; charset=utf-8).
  Outgoing& text(std::string text) & { return set_value(std::move(text), ContentType::text); }
  Outgoing&& text(std::string text) && { return std::move(this->text(std::move(text))); }
  /// Opaque bytes (content-type application/octet-stream).
  Outgoing& bytes(std::string bytes) & { return set_value(std::move(bytes), ContentType::bytes); }
  Outgoing&& bytes(std::string bytes) && { return std::move(this->bytes(std::move(bytes))); }

  /// An extra header. Empty values are never sent.
  Outgoing& header(std::string name, std::string value) & {
    headers_.add(std::move(name), std::move(value));
    return *this;
  }
  Outgoing&& header(std::string name, std::string value) && {
    return std::move(header(std::move(name), std::move(value)));
  }
  /// Removes the extra headers named `name` (the reply paths drop the ones they set themselves).
  Outgoing& erase_header(std::string_view name) & {
    headers_.erase(name);
    return *this;
  }
  Outgoing& event_type(std::string value) & {
    event_type_ = std::move(value);
    return *this;
  }
  Outgoing&& event_type(std::string value) && { return std::move(event_type(std::move(value))); }
  Outgoing& schema_version(std::string value) & {
    schema_version_ = std::move(value);
    return *this;
  }
  Outgoing&& schema_version(std::string value) && { return std::move(schema_version(std::move(value))); }
  /// Overrides the correlation id propagated from the input.
  Outgoing& correlation_id(std::string value) & {
    correlation_id_ = std::move(value);
    return *this;
  }
  Outgoing&& correlation_id(std::string value) && { return std::move(correlation_id(std::move(value))); }
  /// Overrides the conversation id propagated from the input.
  Outgoing& conversation_id(std::string value) & {
    conversation_id_ = std::move(value);
    return *this;
  }
  Outgoing&& conversation_id(std::string value) && { return std::move(conversation_id(std::move(value))); }

  const std::string& topic() const noexcept { return topic_; }
  /// Whether topic() is named in full (exact_topic()): no KAFKA_TOPIC_PREFIX is added to it.
  bool topic_is_exact() const noexcept { return exact_topic_; }
  const std::optional<std::string>& key() const noexcept { return key_; }
  std::optional<std::int32_t> partition() const noexcept { return partition_; }
  const std::string& value() const noexcept { return value_; }
  ContentType content_type() const noexcept { return content_type_; }
  const Headers& headers() const noexcept { return headers_; }
  const std::string& event_type() const noexcept { return event_type_; }
  const std::string& schema_version() const noexcept { return schema_version_; }
  const std::string& correlation_id() const noexcept { return correlation_id_; }
  const std::string& conversation_id() const noexcept { return conversation_id_; }
  /// The Protobuf message type of protobuf() whose schema id is not yet written; nullptr otherwise.
  const google::protobuf::Descriptor* unregistered_protobuf() const noexcept { return protobuf_descriptor_; }
  /// The Avro schema text of avro() whose schema id is not yet written; empty otherwise.
  const std::string& unregistered_avro() const noexcept { return avro_schema_; }
  /// Writes `schema_id` into the wire format's header protobuf() or avro() left for it.
  void set_schema_id(std::int32_t schema_id) noexcept;

 private:
  Outgoing& set_value(std::string value, ContentType type) {
    value_ = std::move(value);
    content_type_ = type;
    protobuf_descriptor_ = nullptr;
    avro_schema_.clear();
    return *this;
  }

  std::string topic_;
  std::optional<std::string> key_;
  std::optional<std::int32_t> partition_;
  std::string value_;
  ContentType content_type_ = ContentType::json;
  bool exact_topic_ = false;
  Headers headers_;
  std::string event_type_, schema_version_, correlation_id_, conversation_id_;
  const google::protobuf::Descriptor* protobuf_descriptor_ = nullptr;
  std::string avro_schema_;
};

}  // namespace kernel
