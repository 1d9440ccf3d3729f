#pragma once
// A record's value in a JSON Lines line, both ways, so that a line reads back as the bytes it
// was written from (docs/reference.md, "Messages as JSON Lines"). A decoded form is shown only
// when reading it back gives the same bytes: a MessagePack float64 that fits a float32, a map
// with a repeated name, JSON with spaces or 1e2 would not.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kernel::detail {

/// The bytes a line's `value` field stands for: under a MessagePack content-type the value
/// encoded as MessagePack, a string too; otherwise a string's characters or any other value's
/// compact JSON text.
std::string value_bytes(const nlohmann::ordered_json& value, bool msgpack);

/// Adds `bytes` to `line` as the `value` it decodes to when that reads back as exactly these
/// bytes; otherwise text as a `value` string, and other bytes as `value_base64`, with the
/// MessagePack document they decode to (if any) beside it as `value`, for reading only.
void write_value(std::string_view bytes, bool msgpack, nlohmann::ordered_json& line);

}  // namespace kernel::detail
