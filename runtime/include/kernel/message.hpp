#pragma once
/// A consumed Kafka message: where it came from, its key, value and headers.
/// Owns the underlying librdkafka message (rd_kafka_message_t) or, in tests, its own copies.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/errors.hpp"
#include "kernel/headers.hpp"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace kernel {

class Message;

/// The deepest nesting of objects and arrays the runtime accepts in JSON from outside: a
/// message's json() and as<T>(), and JSON Lines (samples, kernel-dev-broker --seed). Deeper is
/// a deserialization_error: serialising JSON recurses once per level, so a value nested
/// 100,000 deep would overflow the stack.
inline constexpr std::size_t max_json_depth = 512;

namespace detail {
/// A consumed librdkafka message on its way into a Message: complete only inside the runtime
/// (core/adopt_message.hpp), so only the runtime makes a Message own one.
struct ConsumedMessage;
using JsonConversion = void (*)(const nlohmann::json&);
/// describe_json_error(what) for a conversion of `document` that threw `what`, prefixed with
/// the fields it failed on (`field "items[1].qty": expected number, got string`). nlohmann's
/// messages do not say where, so the conversion is run again on a copy with a marker of a
/// third type in each candidate's place (values of the type found, objects lacking the
/// missing key): the one whose marker it then trips on is the field. Up to 4 fields are
/// named; documents over 5,000 values or 32 candidates are not searched (no field then).
std::string describe_conversion_error(const nlohmann::json& document, std::string_view what, JsonConversion convert);
/// Message::protobuf<T>()'s work, on the message's generated type through its base class, so
/// that this header includes nothing of Protobuf (runtime/src/schema/protobuf_codec.cpp).
void decode_protobuf(const Message& message, google::protobuf::Message& out);
}  // namespace detail

class Message {
 public:
  /// The runtime's: takes ownership of a consumed librdkafka message (detail::adopt_message()).
  explicit Message(detail::ConsumedMessage&& consumed);
  /// A message built from values, for tests and samples.
  Message(std::string topic, std::int32_t partition, std::int64_t offset, std::optional<std::string> key,
          std::string value, Headers headers = {},
          std::chrono::system_clock::time_point timestamp = std::chrono::system_clock::now());

  Message(Message&&) noexcept;
  Message& operator=(Message&&) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message();

  std::string_view topic() const noexcept { return topic_; }
  std::int32_t partition() const noexcept { return partition_; }
  std::int64_t offset() const noexcept { return offset_; }
  /// Creation or log-append time as the broker reports it.
  std::chrono::system_clock::time_point timestamp() const noexcept { return timestamp_; }
  std::int64_t timestamp_ms() const noexcept;
  /// nullopt for a null key.
  std::optional<std::string_view> key() const noexcept { return key_; }
  /// The value as text (the bytes as they are; not checked for UTF-8).
  std::string_view value() const noexcept { return value_; }
  std::span<const std::byte> value_bytes() const noexcept {
    return {reinterpret_cast<const std::byte*>(value_.data()), value_.size()};
  }
  const Headers& headers() const;
  std::optional<std::string_view> header(std::string_view name) const;

  /// Parses the value as JSON. Throws PermanentError (deserialization_error) with the
  /// parser's message when it is not JSON, holds a number beyond a double (1e999), or is
  /// nested deeper than max_json_depth.
  nlohmann::json json() const;

  /// Decodes the value as MessagePack (application/msgpack) into the same document json()
  /// gives, whatever the content-type header says. Throws PermanentError
  /// (deserialization_error) when it is not one MessagePack value, has a map key that is not
  /// a string, or is nested deeper than max_json_depth.
  nlohmann::json msgpack() const;

  /// Decodes the value by its `content-type` header: absent or `application/json` (parameters
  /// such as `; charset=utf-8` ignored) is json(); `application/msgpack` (or the older
  /// `application/x-msgpack`) is msgpack(); any other type is a deserialization_error naming
  /// it. Raw bytes stay available as value() whatever the type.
  nlohmann::json decode() const;

  /// The value converted to T with nlohmann's from_json, decoded as decode() does (JSON or
  /// MessagePack, by content-type). A value that does not decode is a deserialization_error;
  /// a document that does not fit T is a PermanentError (validation_error) naming the field:
  /// `field "id": expected string, got number`.
  template <class T>
  T as() const {
    auto document = decode();
    try {
      return document.get<T>();
    } catch (const nlohmann::json::exception& error) {
      throw PermanentError(
          detail::describe_conversion_error(document, error.what(), [](const nlohmann::json& d) { (void)d.get<T>(); }),
          FailureReason::validation_error);
    }
  }

  /// The value in Confluent's wire format (magic byte 0, schema id, message index, Protobuf
  /// bytes) parsed into T, a class protoc generated; the schema comes from the schema registry
  /// (KAFKA_SCHEMA_REGISTRY_URL) and must name T at that index. Throws PermanentError with
  /// reason wrong_magic_byte, truncated_payload, schema_not_found, schema_mismatch (another
  /// type or message) or deserialization_error (bytes that do not parse), and TransientError
  /// (schema_registry_unavailable) when the registry does not answer; docs/interop.md.
  template <class T>
  T protobuf() const {
    T out;
    detail::decode_protobuf(*this, out);
    return out;
  }

  /// The value in Confluent's wire format (magic byte 0, schema id, Avro binary) as JSON
  /// (docs/interop.md#avro), read with the writer schema the registry has under that id.
  /// Defined in kernel::avro: a kernel that calls it links that library. Throws PermanentError
  /// with reason wrong_magic_byte, truncated_payload, schema_not_found or schema_mismatch (not
  /// an Avro schema, or bytes that are not a value of it), and TransientError
  /// (schema_registry_unavailable) when the registry does not answer.
  nlohmann::json avro() const;

  /// The librdkafka message, or nullptr for a message built from values.
  const rd_kafka_message_s* raw() const noexcept { return raw_.get(); }

 private:
  detail::MessagePtr raw_;  // the views below point into it, or into storage_
  std::string_view topic_;
  std::int32_t partition_ = 0;
  std::int64_t offset_ = 0;
  std::chrono::system_clock::time_point timestamp_{};
  std::optional<std::string_view> key_;
  std::string_view value_;
  mutable std::unique_ptr<Headers> headers_;  // decoded on first use
  // librdkafka found no headers: not asked again (for a record with an empty header list, each
  // rd_kafka_message_headers() call parses it anew, three allocations every time).
  mutable bool no_raw_headers_ = false;
  // Storage for messages built from values.
  std::unique_ptr<struct MessageStorage> storage_;
};

}  // namespace kernel
