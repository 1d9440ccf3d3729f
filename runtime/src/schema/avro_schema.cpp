#include "schema/avro_schema.hpp"

#include <algorithm>

#include <avro.h>

namespace kernel::schema {
namespace {

struct SchemaDeleter {
  void operator()(avro_obj_t* schema) const noexcept { avro_schema_decref(schema); }
};
using SchemaPtr = std::unique_ptr<avro_obj_t, SchemaDeleter>;

constexpr int max_schema_depth = 64;

AvroError invalid(std::string detail) { return AvroError(AvroErrorKind::invalid_schema, std::move(detail)); }

std::string full_name(avro_schema_t schema) {
  const char* name = avro_schema_name(schema);
  const char* space = avro_schema_namespace(schema);
  std::string result = name ? name : "";
  if (space && *space && result.find('.') == std::string::npos) result = std::string(space) + "." + result;
  return result;
}

// Walks avro-c's schema and the schema's JSON side by side: avro-c drops a field's default, so
// the defaults come from the JSON at the same place. A named type seen again (a reference or a
// recursive link) is the node compiled the first time.
class Compiler {
 public:
  std::vector<AvroNode> nodes;

  std::size_t compile(avro_schema_t schema, const nlohmann::json* json, int depth) {
    if (depth > max_schema_depth) throw invalid("schema nested deeper than 64 levels");
    if (is_avro_link(schema)) schema = avro_schema_link_target(schema);
    // {"type": {...}} and {"type": [...]} wrap the real definition one level down.
    while (json && json->is_object()) {
      const auto type = json->find("type");
      if (type == json->end() || type->is_string()) break;
      json = &*type;
    }
    if (const auto seen = compiled_.find(schema); seen != compiled_.end()) return seen->second;
    const std::size_t index = nodes.size();
    nodes.emplace_back();
    switch (avro_typeof(schema)) {
      case AVRO_RECORD:
      case AVRO_ENUM:
      case AVRO_FIXED:
        compiled_.emplace(schema, index);  // before the fields: a field may name its own record
        break;
      default: break;
    }
    nodes[index].name = avro_schema_type_name(schema) ? avro_schema_type_name(schema) : "";
    switch (avro_typeof(schema)) {
      case AVRO_NULL: nodes[index].type = AvroType::null; break;
      case AVRO_BOOLEAN: nodes[index].type = AvroType::boolean; break;
      case AVRO_INT32: nodes[index].type = AvroType::int32; break;
      case AVRO_INT64: nodes[index].type = AvroType::int64; break;
      case AVRO_FLOAT: nodes[index].type = AvroType::float32; break;
      case AVRO_DOUBLE: nodes[index].type = AvroType::float64; break;
      case AVRO_BYTES: nodes[index].type = AvroType::bytes; break;
      case AVRO_STRING: nodes[index].type = AvroType::string; break;
      case AVRO_RECORD: compile_record(schema, json, index, depth); break;
      case AVRO_ENUM: {
        nodes[index].type = AvroType::enumeration;
        nodes[index].name = full_name(schema);
        const int count = avro_schema_enum_number_of_symbols(schema);
        for (int i = 0; i < count; ++i) nodes[index].symbols.emplace_back(avro_schema_enum_get(schema, i));
        break;
      }
      case AVRO_FIXED:
        nodes[index].type = AvroType::fixed;
        nodes[index].name = full_name(schema);
        nodes[index].fixed_size = static_cast<std::size_t>(std::max<int64_t>(0, avro_schema_fixed_size(schema)));
        break;
      case AVRO_ARRAY: {
        nodes[index].type = AvroType::array;
        const auto items = compile(avro_schema_array_items(schema), child(json, "items"), depth + 1);
        nodes[index].items = items;
        break;
      }
      case AVRO_MAP: {
        nodes[index].type = AvroType::map;
        const auto values = compile(avro_schema_map_values(schema), child(json, "values"), depth + 1);
        nodes[index].items = values;
        break;
      }
      case AVRO_UNION: {
        nodes[index].type = AvroType::union_;
        const auto size = avro_schema_union_size(schema);
        for (std::size_t i = 0; i < size; ++i) {
          const nlohmann::json* branch = json && json->is_array() && i < json->size() ? &(*json)[i] : nullptr;
          const auto compiled = compile(avro_schema_union_branch(schema, static_cast<int>(i)), branch, depth + 1);
          nodes[index].branches.push_back(compiled);
        }
        break;
      }
      default: throw invalid("unsupported Avro type");
    }
    return index;
  }

 private:
  static const nlohmann::json* child(const nlohmann::json* json, const char* key) {
    if (!json || !json->is_object()) return nullptr;
    const auto found = json->find(key);
    return found == json->end() ? nullptr : &*found;
  }

  void compile_record(avro_schema_t schema, const nlohmann::json* json, std::size_t index, int depth) {
    nodes[index].type = AvroType::record;
    nodes[index].name = full_name(schema);
    const nlohmann::json* fields = child(json, "fields");
    const auto size = avro_schema_record_size(schema);
    std::vector<AvroField> compiled;
    for (std::size_t i = 0; i < size; ++i) {
      AvroField field;
      field.name = avro_schema_record_field_name(schema, static_cast<int>(i));
      const nlohmann::json* field_json = fields && fields->is_array() && i < fields->size() ? &(*fields)[i] : nullptr;
      if (field_json && field_json->is_object()) {
        if (const auto found = field_json->find("default"); found != field_json->end()) field.default_value = *found;
      }
      field.type = compile(avro_schema_record_field_get_by_index(schema, static_cast<int>(i)),
                           child(field_json, "type"), depth + 1);
      compiled.push_back(std::move(field));
    }
    nodes[index].fields = std::move(compiled);  // after the recursion: `nodes` may have grown
  }

  std::unordered_map<avro_schema_t, std::size_t> compiled_;
};

}  // namespace

std::shared_ptr<const AvroSchema> parse_avro_schema(std::string_view json_text) {
  if (json_text.size() > max_schema_bytes) throw invalid("schema larger than 1 MiB");
  avro_schema_t raw = nullptr;
  if (avro_schema_from_json_length(json_text.data(), json_text.size(), &raw) != 0 || !raw) {
    const char* why = avro_strerror();
    throw invalid(std::string("not an Avro schema: ") + (why && *why ? why : "avro-c refused it"));
  }
  const SchemaPtr schema(raw);
  // avro-c parsed it, so this is JSON; it also gives the defaults avro-c does not keep.
  const auto json = nlohmann::json::parse(json_text, nullptr, false);
  Compiler compiler;
  compiler.compile(schema.get(), json.is_discarded() ? nullptr : &json, 0);
  return std::make_shared<const AvroSchema>(std::move(compiler.nodes));
}

std::shared_ptr<const AvroSchema> AvroSchemaCache::get(std::string_view json_text) {
  const std::lock_guard lock(mutex_);
  if (const auto found = entries_.find(json_text); found != entries_.end()) return found->second.schema;
  auto schema = parse_avro_schema(json_text);  // under the lock: avro-c's parser is not known to be thread-safe
  if (entries_.size() >= capacity_) {
    // Drop the older half: one pass, and a steady working set stays in the newer half.
    const auto keep_from = added_ - capacity_ / 2;
    std::erase_if(entries_, [&](const auto& entry) { return entry.second.added < keep_from; });
  }
  entries_.emplace(std::string(json_text), Entry{schema, added_++});
  return schema;
}

std::size_t AvroSchemaCache::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

AvroSchemaCache& shared_avro_schemas() {
  static AvroSchemaCache cache;
  return cache;
}

}  // namespace kernel::schema
