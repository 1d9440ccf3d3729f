// The schema registry client: requests, answers checked, caches bounded (schema_registry.hpp).
#include "schema/schema_registry.hpp"

#include <limits>

#include <nlohmann/json.hpp>

namespace kernel::schema {

namespace {

// The registry's answers are not trusted: a schema text or a reference list past these is refused.
constexpr std::size_t max_references = 100;
constexpr std::size_t max_subject_schemas = 1000;

nlohmann::json schema_request(SchemaType type, std::string_view text, const std::vector<SchemaReference>& references) {
  nlohmann::json body{{"schema", text}};
  // AVRO is the registry's default and older registries refuse the field: sent only otherwise.
  if (type != SchemaType::avro) body["schemaType"] = std::string(to_string(type));
  if (!references.empty()) {
    auto& list = body["references"] = nlohmann::json::array();
    for (const auto& reference : references) {
      list.push_back({{"name", reference.name}, {"subject", reference.subject}, {"version", reference.version}});
    }
  }
  return body;
}

RegistryError invalid(std::string what) { return {RegistryErrorKind::invalid_answer, std::move(what)}; }

RegistryResult<std::int32_t> id_from(const nlohmann::json& answer) {
  if (!answer.is_object() || !answer.contains("id") || !answer["id"].is_number_integer()) {
    return invalid("the registry's answer has no integer \"id\"");
  }
  const auto id = answer["id"].get<long long>();
  if (id < 0 || id > std::numeric_limits<std::int32_t>::max()) {
    return invalid("the registry's schema id " + std::to_string(id) + " is not 0 to 2^31-1");
  }
  return static_cast<std::int32_t>(id);
}

}  // namespace

RegistryResult<Schema> schema_from_json(const nlohmann::json& answer) {
  if (!answer.is_object() || !answer.contains("schema") || !answer["schema"].is_string()) {
    return invalid("the registry's answer has no \"schema\" string");
  }
  Schema schema;
  schema.text = answer["schema"].get<std::string>();
  if (answer.contains("schemaType")) {
    const auto& type = answer["schemaType"];
    if (!type.is_string() || !schema_type_from_string(type.get<std::string>(), schema.type)) {
      return invalid("the registry's schemaType is not AVRO, PROTOBUF or JSON");
    }
  }
  if (answer.contains("references") && !answer["references"].is_null()) {
    const auto& references = answer["references"];
    if (!references.is_array() || references.size() > max_references) {
      return invalid("the registry's references are not a list of at most " + std::to_string(max_references));
    }
    for (const auto& reference : references) {
      if (!reference.is_object() || !reference.value("name", nlohmann::json()).is_string() ||
          !reference.value("subject", nlohmann::json()).is_string() ||
          !reference.value("version", nlohmann::json()).is_number_integer()) {
        return invalid("a reference in the registry's answer lacks name, subject or version");
      }
      schema.references.push_back({reference["name"].get<std::string>(), reference["subject"].get<std::string>(),
                                   reference["version"].get<int>()});
    }
  }
  return schema;
}

SchemaRegistry::SchemaRegistry(const RegistryOptions& options)
    : http_(options), capacity_(options.cache_capacity == 0 ? 1 : options.cache_capacity) {}

RegistryResult<std::shared_ptr<const Schema>> SchemaRegistry::schema_by_id(std::int32_t id) {
  {
    std::lock_guard lock(mutex_);
    if (auto found = by_id_.find(id); found != by_id_.end()) {
      by_id_order_.splice(by_id_order_.begin(), by_id_order_, found->second);
      return found->second->second;
    }
    ++requests_;
  }
  auto answer = http_.get("/schemas/ids/" + std::to_string(id));
  if (!answer) {
    auto error = answer.error();
    if (error.kind == RegistryErrorKind::not_found)
      error.message = "schema id " + std::to_string(id) + " not found: " + error.message;
    return error;
  }
  auto schema = schema_from_json(*answer);
  if (!schema) return schema.error();
  auto shared = std::make_shared<const Schema>(std::move(*schema));
  std::lock_guard lock(mutex_);
  if (auto found = by_id_.find(id); found != by_id_.end()) return found->second->second;  // another thread was first
  by_id_order_.emplace_front(id, shared);
  by_id_[id] = by_id_order_.begin();
  while (by_id_.size() > capacity_) {
    by_id_.erase(by_id_order_.back().first);
    by_id_order_.pop_back();
  }
  return shared;
}

RegistryResult<std::int32_t> SchemaRegistry::register_schema(std::string_view subject, SchemaType type,
                                                             std::string_view text,
                                                             const std::vector<SchemaReference>& references) {
  return subject_schema_id("/versions", subject, type, text, references);
}

RegistryResult<std::int32_t> SchemaRegistry::lookup_schema(std::string_view subject, SchemaType type,
                                                           std::string_view text,
                                                           const std::vector<SchemaReference>& references) {
  return subject_schema_id("", subject, type, text, references);
}

RegistryResult<std::int32_t> SchemaRegistry::subject_schema_id(std::string_view path_suffix, std::string_view subject,
                                                               SchemaType type, std::string_view text,
                                                               const std::vector<SchemaReference>& references) {
  std::string key(subject);
  key += '\0';
  key += to_string(type);
  key += '\0';
  key += text;
  {
    std::lock_guard lock(mutex_);
    if (auto found = ids_by_subject_schema_.find(key); found != ids_by_subject_schema_.end()) return found->second;
    ++requests_;
  }
  auto answer = http_.post("/subjects/" + encode_path_segment(subject) + std::string(path_suffix),
                           schema_request(type, text, references));
  if (!answer) {
    auto error = answer.error();
    error.message = "subject " + std::string(subject) + ": " + error.message;
    return error;
  }
  auto id = id_from(*answer);
  if (!id) return id;
  std::lock_guard lock(mutex_);
  if (ids_by_subject_schema_.size() >= max_subject_schemas) ids_by_subject_schema_.clear();  // a kernel encodes a few
  ids_by_subject_schema_.emplace(std::move(key), *id);
  return id;
}

std::size_t SchemaRegistry::cached_schemas() const {
  std::lock_guard lock(mutex_);
  return by_id_.size();
}

std::size_t SchemaRegistry::requests_sent() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

}  // namespace kernel::schema
