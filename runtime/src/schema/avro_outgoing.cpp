// Outgoing::avro() (kernel/outgoing.hpp): the value encoded with its schema and framed with a
// placeholder id that produce() fills in (schema/output_registration.hpp). In kernel::avro, so
// a kernel that writes no Avro loads no libavro. Each thread remembers the last few schema
// texts it compiled: a hit costs comparing the text, no lock.
#include <array>
#include <memory>

#include "kernel/errors.hpp"
#include "kernel/outgoing.hpp"
#include "schema/avro_codec.hpp"
#include "schema/avro_schema.hpp"
#include "schema/wire_format.hpp"

namespace kernel {

namespace schema {

namespace {

constexpr std::size_t text_memo_size = 4;

struct CompiledText {
  std::string text;
  std::shared_ptr<const AvroSchema> schema;
};

thread_local std::array<CompiledText, text_memo_size> compiled_texts;
thread_local std::size_t next_compiled_text = 0;

const AvroSchema& compiled_schema(const std::string& text) {
  for (const auto& entry : compiled_texts) {
    if (entry.schema && entry.text == text) return *entry.schema;
  }
  std::shared_ptr<const AvroSchema> schema;
  try {
    schema = shared_avro_schemas().get(text);
  } catch (const AvroError& error) {
    throw PermanentError(std::string("Outgoing::avro(): ") + error.what(), FailureReason::schema_mismatch);
  }
  auto& entry = compiled_texts[next_compiled_text++ % text_memo_size];
  entry = {text, std::move(schema)};
  return *entry.schema;
}

}  // namespace

}  // namespace schema

Outgoing& Outgoing::avro(const nlohmann::json& value, std::string schema) & {
  const auto& writer = schema::compiled_schema(schema);
  std::string framed;
  framed.reserve(128);
  // The id depends on the topic, known for certain at produce(): written there into these 4 bytes.
  schema::write_frame_header(framed, 0);
  try {
    schema::avro_encode(writer, value, framed);
  } catch (const schema::AvroError& error) {
    throw PermanentError(std::string("Outgoing::avro(): ") + error.what(), FailureReason::schema_mismatch);
  }
  set_value(std::move(framed), ContentType::avro);
  avro_schema_ = std::move(schema);
  return *this;
}

}  // namespace kernel
