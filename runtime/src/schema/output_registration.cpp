// Registering an Avro output's schema at produce() (output_registration.hpp). A per-thread memo
// of the last few (schema text, topic) keeps a steady stream free of registry calls and locks:
// a hit costs comparing the schema text.
#include "schema/output_registration.hpp"

#include <array>
#include <nlohmann/json.hpp>

#include "kernel/errors.hpp"
#include "schema/registry_instance.hpp"

namespace kernel::schema {

namespace {

constexpr std::size_t avro_memo_size = 4;

struct RegisteredAvro {
  std::uint64_t generation = 0;
  std::string schema;
  std::string topic;  // as produce() was given it; empty: the output topic
  std::int32_t schema_id = 0;
};

thread_local std::array<RegisteredAvro, avro_memo_size> registered_avro;
thread_local std::size_t next_registered_avro = 0;

// The full name RecordNameStrategy uses: a named type's namespace and name.
std::string avro_record_name(const std::string& schema_text) {
  const auto schema = nlohmann::json::parse(schema_text, nullptr, false);
  if (schema.is_object() && schema.contains("name") && schema["name"].is_string()) {
    const auto name = schema["name"].get<std::string>();
    if (name.find('.') != std::string::npos) return name;
    if (schema.contains("namespace") && schema["namespace"].is_string()) {
      const auto space = schema["namespace"].get<std::string>();
      if (!space.empty()) return space + "." + name;
    }
    return name;
  }
  throw PermanentError(
      "Outgoing::avro(): KAFKA_SCHEMA_REGISTRY_SUBJECT_STRATEGY=record needs a named schema (a record)",
      FailureReason::schema_mismatch);
}

}  // namespace

void register_avro_output(Outgoing& output, const std::optional<std::string>& output_topic) {
  const auto& schema = output.unregistered_avro();
  const auto generation = registry_generation();
  for (const auto& entry : registered_avro) {
    if (entry.generation == generation && entry.topic == output.topic() && entry.schema == schema) {
      output.set_schema_id(entry.schema_id);
      return;
    }
  }
  const auto instance = installed_registry();
  if (!instance) throw FatalError("Outgoing::avro() needs a schema registry: set KAFKA_SCHEMA_REGISTRY_URL");
  const std::string topic =
      output.topic().empty() ? output_topic.value_or("") : instance->topic_prefix + output.topic();
  const auto subject =
      instance->subject_strategy == SubjectStrategy::record ? avro_record_name(schema) : topic + "-value";
  auto id = instance->registry->register_schema(subject, SchemaType::avro, schema);
  if (!id) {
    const auto& error = id.error();
    if (error.kind == RegistryErrorKind::incompatible)
      throw PermanentError(error.message, FailureReason::schema_mismatch);
    throw TransientError(error.message, FailureReason::schema_registry_unavailable);
  }
  registered_avro[next_registered_avro++ % avro_memo_size] = {generation, schema, output.topic(), *id};
  output.set_schema_id(*id);
}

}  // namespace kernel::schema
