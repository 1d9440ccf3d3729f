#include "broker/jsonl_headers.hpp"

#include <optional>
#include <string_view>
#include <unordered_set>

#include "kernel/jsonl.hpp"

namespace kernel::detail {

namespace {

using Json = nlohmann::ordered_json;

/// Bytes as a string when they are UTF-8, otherwise as {"base64": "..."}.
Json bytes_field(std::string_view bytes) {
  if (jsonl::is_valid_utf8(bytes)) return bytes;
  return {{"base64", jsonl::base64_encode(bytes)}};
}

/// The bytes of a string or {"base64": "..."}; nullopt for anything else. Throws
/// std::invalid_argument for base64 that does not decode.
std::optional<std::string> bytes_of(const Json& field) {
  if (field.is_string()) return field.get<std::string>();
  if (field.is_object() && field.size() == 1 && field.contains("base64") && field["base64"].is_string()) {
    return jsonl::base64_decode(field["base64"].get<std::string>());
  }
  return std::nullopt;
}

bool fits_an_object(const Headers& headers) {
  std::unordered_set<std::string_view> names;
  for (const auto& [name, value] : headers) {
    if (!jsonl::is_valid_utf8(name) || !names.insert(name).second) return false;
  }
  return true;
}

/// Adds one header, its value a string, {"base64": "..."} or null.
void add_header(Headers& headers, std::string name, const Json& value, const std::string& where) {
  if (value.is_null()) {
    headers.add_null(std::move(name));
    return;
  }
  std::optional<std::string> bytes;
  try {
    bytes = bytes_of(value);
  } catch (const std::invalid_argument& error) {
    throw jsonl::ParseError(where + ": " + error.what());
  }
  if (!bytes) throw jsonl::ParseError(where + " must be a string, {\"base64\": \"...\"} or null");
  headers.add(std::move(name), std::move(*bytes));
}

}  // namespace

Json headers_field(const Headers& headers) {
  const bool as_object = fits_an_object(headers);
  Json field = as_object ? Json::object() : Json::array();
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const auto& [name, value] = headers[i];
    Json shown = headers.is_null(i) ? Json(nullptr) : bytes_field(value);
    if (as_object) {
      field[name] = std::move(shown);
    } else {
      field.push_back(Json::array({bytes_field(name), std::move(shown)}));
    }
  }
  return field;
}

Headers read_headers(const Json& field, const std::string& where) {
  Headers headers;
  if (field.is_object()) {
    for (const auto& [name, value] : field.items())
      add_header(headers, name, value, where + ": header \"" + name + "\"");
    return headers;
  }
  if (!field.is_array()) {
    throw jsonl::ParseError(where + ": \"headers\" must be an object of strings or a list of [name, value] pairs");
  }
  for (std::size_t i = 0; i < field.size(); ++i) {
    const auto at = where + ": headers[" + std::to_string(i) + "]";
    const auto& pair = field[i];
    std::optional<std::string> name;
    try {
      if (pair.is_array() && pair.size() == 2) name = bytes_of(pair[0]);
    } catch (const std::invalid_argument& error) {
      throw jsonl::ParseError(at + ": " + error.what());
    }
    if (!name)
      throw jsonl::ParseError(at + " must be a [name, value] pair, the name a string or {\"base64\": \"...\"}");
    add_header(headers, std::move(*name), pair[1], at);
  }
  return headers;
}

}  // namespace kernel::detail
