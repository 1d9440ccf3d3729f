#pragma once
// What a schema registry holds: a schema's type, its text and the schemas it references.
// Shared by the registry client, the wire format and the codecs (Protobuf here; Avro plugs in
// beside it with SchemaType::avro).
#include <string>
#include <string_view>
#include <vector>

namespace kernel::schema {

/// The registry's `schemaType`; AVRO when the registry leaves it out, as Confluent's does.
enum class SchemaType { avro, protobuf, json };

/// "AVRO", "PROTOBUF", "JSON": the registry's spelling.
std::string_view to_string(SchemaType type) noexcept;
/// The registry's spelling to a type; false for an unknown one.
bool schema_type_from_string(std::string_view text, SchemaType& type) noexcept;

/// Another subject's schema this one imports (a Protobuf import, an Avro named type).
struct SchemaReference {
  std::string name;
  std::string subject;
  int version = 0;

  friend bool operator==(const SchemaReference&, const SchemaReference&) = default;
};

/// A registered schema as GET /schemas/ids/{id} answers it.
struct Schema {
  SchemaType type = SchemaType::avro;
  std::string text;
  std::vector<SchemaReference> references;
};

}  // namespace kernel::schema
