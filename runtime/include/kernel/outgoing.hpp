#pragma once
/// A message a handler produces, built fluently:
///
///   ctx.produce(kernel::Outgoing{}.key(order_id).json(doc).event_type("order.enriched"));
///
/// The runtime stamps the standard headers (event-id, correlation-id, causation-id, source,
/// timestamp, content-type, and event-type, conversation-id, schema-version, retry-count when
/// they have a value) when it sends the message.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace kernel {

enum class ContentType { json, text, bytes };

std::string_view content_type_header(ContentType type) noexcept;

class Outgoing {
 public:
  /// Topic to send to; empty means the kernel's output topic. KAFKA_TOPIC_PREFIX is
  /// prepended when it is sent.
  Outgoing& topic(std::string name) { topic_ = std::move(name); return *this; }
  Outgoing& key(std::string key) { key_ = std::move(key); return *this; }
  Outgoing& partition(std::int32_t partition) { partition_ = partition; return *this; }
  /// A JSON document (content-type application/json).
  Outgoing& json(const nlohmann::json& document) {
    value_ = document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    content_type_ = ContentType::json;
    return *this;
  }
  /// JSON text already serialised (content-type application/json).
  Outgoing& json_text(std::string text) {
    value_ = std::move(text);
    content_type_ = ContentType::json;
    return *this;
  }
  /// Text (content-type text/plain; charset=utf-8).
  Outgoing& text(std::string text) {
    value_ = std::move(text);
    content_type_ = ContentType::text;
    return *this;
  }
  /// Opaque bytes (content-type application/octet-stream).
  Outgoing& bytes(std::string bytes) {
    value_ = std::move(bytes);
    content_type_ = ContentType::bytes;
    return *this;
  }
  /// An extra header. Empty values are never sent.
  Outgoing& header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Outgoing& event_type(std::string value) { event_type_ = std::move(value); return *this; }
  Outgoing& schema_version(std::string value) { schema_version_ = std::move(value); return *this; }
  /// Overrides the correlation id propagated from the input.
  Outgoing& correlation_id(std::string value) { correlation_id_ = std::move(value); return *this; }
  /// Overrides the conversation id propagated from the input.
  Outgoing& conversation_id(std::string value) { conversation_id_ = std::move(value); return *this; }

  const std::string& topic() const noexcept { return topic_; }
  const std::optional<std::string>& key() const noexcept { return key_; }
  std::optional<std::int32_t> partition() const noexcept { return partition_; }
  const std::string& value() const noexcept { return value_; }
  ContentType content_type() const noexcept { return content_type_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const noexcept { return headers_; }
  const std::string& event_type() const noexcept { return event_type_; }
  const std::string& schema_version() const noexcept { return schema_version_; }
  const std::string& correlation_id() const noexcept { return correlation_id_; }
  const std::string& conversation_id() const noexcept { return conversation_id_; }

 private:
  std::string topic_;
  std::optional<std::string> key_;
  std::optional<std::int32_t> partition_;
  std::string value_;
  ContentType content_type_ = ContentType::json;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string event_type_, schema_version_, correlation_id_, conversation_id_;
};

}  // namespace kernel
