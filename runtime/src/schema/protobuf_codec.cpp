// Protobuf in Confluent's wire format (protobuf_codec.hpp). Each thread remembers the last few
// (schema id, message index, type) it checked and (type, topic) it registered, so a steady
// stream costs no registry lookup, lock or allocation beyond Protobuf's own parse.
#include "schema/protobuf_codec.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <array>
#include <atomic>

#include "kernel/errors.hpp"
#include "kernel/message.hpp"
#include "schema/protobuf_schema.hpp"
#include "schema/registry_instance.hpp"
#include "schema/wire_format.hpp"

namespace kernel {

namespace schema {

namespace {

constexpr std::size_t memo_size = 4;

struct CheckedSchema {
  std::uint64_t generation = 0;
  std::int32_t schema_id = -1;
  bool index_read = false;  // the value had a message-index list that parsed
  MessageIndex index;
  const google::protobuf::Descriptor* type = nullptr;
  bool unindexed = false;  // read as message 0 right after the id (indexless_protobuf_values())
};

struct RegisteredOutput {
  std::uint64_t generation = 0;
  const google::protobuf::Descriptor* type = nullptr;
  std::string topic;  // as produce() was given it; empty: the output topic
  std::int32_t schema_id = 0;
};

// Round-robin replacement: a kernel reads and writes a handful of types.
template <class Entry>
struct Memo {
  std::array<Entry, memo_size> entries;
  std::size_t next = 0;
  Entry& replace() { return entries[next++ % memo_size]; }
};

thread_local Memo<CheckedSchema> checked;
thread_local Memo<RegisteredOutput> registered;

std::shared_ptr<const RegistryInstance> registry_or_fatal(std::string_view user) {
  auto instance = installed_registry();
  if (!instance) throw FatalError(std::string(user) + " needs a schema registry: set KAFKA_SCHEMA_REGISTRY_URL");
  return instance;
}

MessageIndex index_of(const google::protobuf::Descriptor* type) {
  std::array<std::int32_t, 64> reversed{};
  std::size_t depth = 0;
  for (auto* at = type; at != nullptr && depth < reversed.size(); at = at->containing_type())
    reversed[depth++] = at->index();
  MessageIndex index;
  if (depth > max_message_index_depth)
    throw PermanentError("Outgoing::protobuf(): " + type->full_name() + " is nested too deep");
  for (std::size_t i = 0; i < depth; ++i) index.path[i] = reversed[depth - 1 - i];
  index.depth = depth;
  return index;
}

[[noreturn]] void throw_frame_error(FrameError error, std::string_view where) {
  const std::string message = std::string(where) + ": " + std::string(to_string(error));
  switch (error) {
    case FrameError::wrong_magic_byte:
      throw PermanentError(message + " (not written through a schema registry)", FailureReason::wrong_magic_byte);
    case FrameError::truncated: throw PermanentError(message, FailureReason::truncated_payload);
    default: throw PermanentError(message, FailureReason::deserialization_error);
  }
}

enum class Naming { matches, other_message, no_message };

// Whether the registry's schema `schema_id` names `type` at `index` (`why` says what it names
// otherwise); throws when the registry has no such schema or does not answer.
Naming name_at(std::int32_t schema_id, const MessageIndex& index, const google::protobuf::Descriptor* type,
               std::string& why) {
  const auto instance = registry_or_fatal("Message::protobuf()");
  auto schema = instance->registry->schema_by_id(schema_id);
  if (!schema) {
    const auto& error = schema.error();
    if (error.kind == RegistryErrorKind::not_found)
      throw PermanentError(error.message, FailureReason::schema_not_found);
    // Away, refusing our credentials or answering garbage: nothing to conclude about this
    // message, so it waits (retries, breaker) rather than every message being dead-lettered.
    throw TransientError(error.message, FailureReason::schema_registry_unavailable);
  }
  std::string full_name;
  if (!protobuf_message_name(**schema, index, full_name, why)) {
    why = "schema " + std::to_string(schema_id) + ": " + why;
    return (*schema)->type == SchemaType::protobuf ? Naming::no_message : Naming::other_message;
  }
  if (full_name != type->full_name()) {
    why = "schema " + std::to_string(schema_id) + " writes " + full_name + ", the handler reads " + type->full_name();
    return Naming::other_message;
  }
  return Naming::matches;
}

std::atomic<std::uint64_t> unindexed_values{0};

std::string subject_of(const RegistryInstance& instance, const google::protobuf::Descriptor* type,
                       const std::string& topic) {
  if (instance.subject_strategy == SubjectStrategy::record) return type->full_name();
  return topic + "-value";
}

}  // namespace

void register_protobuf_output(Outgoing& output, const std::optional<std::string>& output_topic) {
  const auto* type = output.unregistered_protobuf();
  const auto generation = registry_generation();
  for (const auto& entry : registered.entries) {
    if (entry.generation == generation && entry.type == type && entry.topic == output.topic()) {
      output.set_schema_id(entry.schema_id);
      return;
    }
  }
  const auto instance = registry_or_fatal("Outgoing::protobuf()");
  const std::string topic =
      output.topic().empty() ? output_topic.value_or("") : instance->topic_prefix + output.topic();
  const auto subject = subject_of(*instance, type, topic);
  // DebugString() is the file's .proto text, what Java and Go serializers register too.
  auto id = instance->registry->register_schema(subject, SchemaType::protobuf, type->file()->DebugString());
  if (!id) {
    const auto& error = id.error();
    if (error.kind == RegistryErrorKind::incompatible)
      throw PermanentError(error.message, FailureReason::schema_mismatch);
    throw TransientError(error.message, FailureReason::schema_registry_unavailable);
  }
  auto& entry = registered.replace();
  entry = {generation, type, output.topic(), *id};
  output.set_schema_id(*id);
}

}  // namespace schema

std::uint64_t schema::indexless_protobuf_values() noexcept { return schema::unindexed_values.load(); }

void detail::decode_protobuf(const Message& message, google::protobuf::Message& out) {
  schema::Frame frame;
  if (auto error = schema::read_frame(message.value(), frame); error != schema::FrameError::none) {
    schema::throw_frame_error(error, "Message::protobuf()");
  }
  schema::MessageIndex index;
  schema::Frame indexed = frame;
  const auto index_error = schema::read_message_index(indexed, index);
  const bool index_read = index_error == schema::FrameError::none;
  const auto* type = out.GetDescriptor();
  const auto generation = schema::registry_generation();
  const schema::CheckedSchema* known = nullptr;
  for (const auto& entry : schema::checked.entries) {
    if (entry.generation == generation && entry.schema_id == frame.schema_id && entry.type == type &&
        entry.index_read == index_read && (!index_read || entry.index == index)) {
      known = &entry;
    }
  }
  bool unindexed = known != nullptr && known->unindexed;
  if (known == nullptr) {
    std::string why;
    const auto naming = index_read ? schema::name_at(frame.schema_id, index, type, why) : schema::Naming::no_message;
    if (naming == schema::Naming::other_message) throw PermanentError(why, FailureReason::schema_mismatch);
    if (naming == schema::Naming::no_message) {
      // @kafkajs/confluent-schema-registry writes no message-index list (`0 <id> <bytes>`).
      // A Protobuf payload never starts with the byte 0 (no field 0), and a real list names
      // an existing message: so a list that does not parse or names nothing, followed by
      // bytes that are the schema's first message, is such a value (docs/interop.md).
      // The cheap tests first: the registry is asked only about bytes that parse as T.
      std::string first_why;
      const schema::MessageIndex first{{0}, 1};
      const bool accepted = !frame.payload.empty() && frame.payload.front() != '\0' &&
                            frame.payload.size() <= static_cast<std::size_t>(INT32_MAX) &&
                            out.ParseFromArray(frame.payload.data(), static_cast<int>(frame.payload.size())) &&
                            schema::name_at(frame.schema_id, first, type, first_why) == schema::Naming::matches;
      if (!accepted) {
        if (!index_read) schema::throw_frame_error(index_error, "Message::protobuf(): message index");
        throw PermanentError(why, FailureReason::schema_mismatch);
      }
      unindexed = true;
    }
    schema::checked.replace() = {generation, frame.schema_id, index_read, index, type, unindexed};
    if (unindexed) {
      schema::unindexed_values.fetch_add(1, std::memory_order_relaxed);
      return;  // parsed above
    }
  }
  if (unindexed) {
    // As on the first such value: bytes that are not T keep the strict reading's error.
    if (frame.payload.empty() || frame.payload.front() == '\0' ||
        frame.payload.size() > static_cast<std::size_t>(INT32_MAX) ||
        !out.ParseFromArray(frame.payload.data(), static_cast<int>(frame.payload.size()))) {
      if (!index_read) schema::throw_frame_error(index_error, "Message::protobuf(): message index");
      throw PermanentError("Message::protobuf(): schema " + std::to_string(frame.schema_id) +
                               " has no message at the value's message index",
                           FailureReason::schema_mismatch);
    }
    schema::unindexed_values.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (indexed.payload.size() > static_cast<std::size_t>(INT32_MAX) ||
      !out.ParseFromArray(indexed.payload.data(), static_cast<int>(indexed.payload.size()))) {
    throw PermanentError("Message::protobuf(): the bytes are not a valid " + type->full_name(),
                         FailureReason::deserialization_error);
  }
}

Outgoing& Outgoing::protobuf(const google::protobuf::Message& message) & {
  const auto* type = message.GetDescriptor();
  const auto index = schema::index_of(type);
  std::string value;
  value.reserve(schema::confluent_header_size + 2 * index.depth + 1 + message.ByteSizeLong());
  // The id depends on the topic, known for certain at produce(): written there into these 4 bytes.
  schema::write_frame_header(value, 0);
  schema::write_message_index(value, index);
  if (!message.AppendToString(&value)) {
    // proto2's required fields unset: no reader could parse what would be written.
    throw PermanentError(
        "Outgoing::protobuf(): " + type->full_name() + " cannot be serialised: " + message.InitializationErrorString(),
        FailureReason::validation_error);
  }
  set_value(std::move(value), ContentType::protobuf);
  protobuf_descriptor_ = type;
  return *this;
}

void Outgoing::set_schema_id(std::int32_t schema_id) noexcept {
  if (value_.size() < schema::confluent_header_size) return;
  const auto id = static_cast<std::uint32_t>(schema_id);
  for (int i = 0; i < 4; ++i) value_[1 + i] = static_cast<char>((id >> (24 - 8 * i)) & 0xFF);
  protobuf_descriptor_ = nullptr;
  avro_schema_.clear();
}

}  // namespace kernel
