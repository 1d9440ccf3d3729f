// The registry's spelling of schema types (schema_types.hpp).
#include "schema/schema_types.hpp"

namespace kernel::schema {

std::string_view to_string(SchemaType type) noexcept {
  switch (type) {
    case SchemaType::avro: return "AVRO";
    case SchemaType::protobuf: return "PROTOBUF";
    case SchemaType::json: return "JSON";
  }
  return "AVRO";
}

bool schema_type_from_string(std::string_view text, SchemaType& type) noexcept {
  for (const auto candidate : {SchemaType::avro, SchemaType::protobuf, SchemaType::json}) {
    if (text == to_string(candidate)) {
      type = candidate;
      return true;
    }
  }
  return false;
}

}  // namespace kernel::schema
