#pragma once
// Avro binary <-> nlohmann::json, driven by a compiled writer schema (avro_schema.hpp).
//
// The JSON form (docs/interop.md, "Avro"): null, boolean, int and long as JSON integers (a long
// keeps all 64 bits: nlohmann holds int64), float and double as numbers, string as a string,
// bytes and fixed as base64 strings (padded, standard alphabet), enum as its symbol, array as
// an array, map as an object, record as an object with every field. A union is its plain value
// (null, or the branch's value), as most clients give it: encoding picks the first branch the
// JSON value fits; {"<branch type name>": value} (Avro's own JSON encoding) is accepted too when
// the plain value fits no branch. Logical types are their underlying type.
//
// Every input is untrusted: a payload is read within its bounds (a length or count past what is
// left is `corrupt` or `truncated`, never an allocation), nesting is bounded, and an error names
// where in the value it is (`$.items[2].sku: expected string, got number`).
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "schema/avro_schema.hpp"

namespace kernel::schema {

/// The deepest a value may nest (records, arrays, maps, unions), reading or writing.
inline constexpr int max_avro_depth = 128;

/// Decodes exactly one value of `schema` from `payload` (the whole payload: bytes left over are
/// a mismatch). Throws AvroError.
nlohmann::json avro_decode(const AvroSchema& schema, std::string_view payload);

/// Appends `value` encoded as `schema` to `out`. Throws AvroError(mismatch) naming the field;
/// `out` is then left as it was.
void avro_encode(const AvroSchema& schema, const nlohmann::json& value, std::string& out);

}  // namespace kernel::schema
