#pragma once
// Which decoder a value's `content-type` header asks for (docs/duplicates-and-formats.md):
// absent or application/json is JSON, application/msgpack MessagePack, anything else neither.
// One place for the rule, used by Message::decode() and the JSON Lines format.
#include <optional>
#include <string_view>

namespace kernel::detail {

enum class PayloadFormat { json, msgpack, other };

/// The format a content-type names. Case, surrounding spaces and parameters
/// (`; charset=utf-8`) are ignored; `application/x-msgpack`, the older spelling, is
/// MessagePack too.
PayloadFormat payload_format(std::optional<std::string_view> content_type) noexcept;

}  // namespace kernel::detail
