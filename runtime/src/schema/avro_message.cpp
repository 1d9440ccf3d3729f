// Message::avro() (kernel/message.hpp): Confluent's frame, the writer schema by id through the
// schema registry (as Message::protobuf<T>() reads it), then the codec. In kernel::avro, so a
// kernel that reads no Avro loads no libavro. Each thread remembers the last few schema ids it
// compiled, so a steady stream costs no registry lookup, lock or schema parse.
#include <array>
#include <memory>

#include "kernel/errors.hpp"
#include "kernel/message.hpp"
#include "schema/avro_codec.hpp"
#include "schema/avro_schema.hpp"
#include "schema/registry_instance.hpp"
#include "schema/wire_format.hpp"

namespace kernel {

namespace schema {

namespace {

constexpr std::size_t id_memo_size = 4;

struct CompiledSchema {
  std::uint64_t generation = 0;
  std::int32_t schema_id = -1;
  std::shared_ptr<const AvroSchema> schema;
};

thread_local std::array<CompiledSchema, id_memo_size> compiled_ids;
thread_local std::size_t next_compiled_id = 0;

std::shared_ptr<const AvroSchema> writer_schema_by_id(std::int32_t schema_id) {
  const auto instance = installed_registry();
  if (!instance) throw FatalError("Message::avro() needs a schema registry: set KAFKA_SCHEMA_REGISTRY_URL");
  auto found = instance->registry->schema_by_id(schema_id);
  if (!found) {
    const auto& error = found.error();
    if (error.kind == RegistryErrorKind::not_found)
      throw PermanentError(error.message, FailureReason::schema_not_found);
    // Away, refusing our credentials or answering garbage: nothing to conclude about this
    // message, so it waits (retries, breaker) as Message::protobuf<T>() does.
    throw TransientError(error.message, FailureReason::schema_registry_unavailable);
  }
  const auto& schema = **found;
  if (schema.type != SchemaType::avro) {
    throw PermanentError("Message::avro(): schema " + std::to_string(schema_id) + " is " +
                             std::string(to_string(schema.type)) + ", not AVRO",
                         FailureReason::schema_mismatch);
  }
  try {
    return shared_avro_schemas().get(schema.text);
  } catch (const AvroError& error) {
    throw PermanentError("Message::avro(): schema " + std::to_string(schema_id) + ": " + error.what(),
                         FailureReason::schema_mismatch);
  }
}

}  // namespace

}  // namespace schema

nlohmann::json Message::avro() const {
  schema::Frame frame;
  if (auto error = schema::read_frame(value(), frame); error != schema::FrameError::none) {
    const std::string message = "Message::avro(): " + std::string(schema::to_string(error));
    if (error == schema::FrameError::truncated) throw PermanentError(message, FailureReason::truncated_payload);
    throw PermanentError(message + " (not written through a schema registry)", FailureReason::wrong_magic_byte);
  }
  const auto generation = schema::registry_generation();
  const schema::AvroSchema* writer = nullptr;
  for (const auto& entry : schema::compiled_ids) {
    if (entry.generation == generation && entry.schema_id == frame.schema_id) writer = entry.schema.get();
  }
  if (writer == nullptr) {
    auto parsed = schema::writer_schema_by_id(frame.schema_id);
    writer = parsed.get();
    schema::compiled_ids[schema::next_compiled_id++ % schema::id_memo_size] = {generation, frame.schema_id,
                                                                               std::move(parsed)};
  }
  try {
    return schema::avro_decode(*writer, frame.payload);
  } catch (const schema::AvroError& error) {
    const auto reason = error.kind() == schema::AvroErrorKind::truncated ? FailureReason::truncated_payload
                                                                         : FailureReason::schema_mismatch;
    throw PermanentError("Message::avro(): schema " + std::to_string(frame.schema_id) + ": " + error.what(), reason);
  }
}

}  // namespace kernel
