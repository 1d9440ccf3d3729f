#pragma once
// A record's headers in a JSON Lines line, both ways, keeping their order, repeated names and
// bytes (docs/reference.md, "Messages as JSON Lines"):
//
//   "headers": {"h": "v", "raw": {"base64": "/w=="}, "absent": null}
//   "headers": [["h", "1"], ["h", "2"], [{"base64": "/w=="}, "v"]]
//
// The object, the usual form, when every name is UTF-8 and given once; otherwise the list.
#include <string>

#include <nlohmann/json.hpp>

#include "kernel/headers.hpp"

namespace kernel::detail {

/// The `headers` field that reads back as `headers`.
nlohmann::ordered_json headers_field(const Headers& headers);

/// The headers a line's `headers` field (either form) stands for. Throws jsonl::ParseError,
/// naming `where` (the line).
Headers read_headers(const nlohmann::ordered_json& field, const std::string& where);

}  // namespace kernel::detail
