#include "broker/jsonl_value.hpp"

#include <optional>

#include "broker/jsonl_parse.hpp"
#include "core/bounded_json.hpp"
#include "kernel/jsonl.hpp"

namespace kernel::detail {

namespace {

using Json = nlohmann::ordered_json;

/// The document `bytes` decode to, or nullopt when they do not decode (or nest too deep).
std::optional<Json> decoded(std::string_view bytes, bool msgpack) {
  try {
    return msgpack ? parse_bounded_msgpack<Json>(bytes) : parse_bounded_json<Json>(bytes);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  } catch (const JsonTooDeep&) {
    return std::nullopt;
  }
}

/// The bytes a line holding `shown` as its value stands for, or nullopt when such a line would
/// be refused: read inside an object, as in a line, a value at the depth limit is one too deep.
std::optional<std::string> read_back(const Json& shown, bool msgpack) {
  try {
    auto line = parse_line_json(R"({"value":)" + shown.dump(-1, ' ', false, Json::error_handler_t::replace) + "}");
    return value_bytes(line["value"], msgpack);
  } catch (const JsonTooDeep&) {
    return std::nullopt;
  }
}

}  // namespace

std::string value_bytes(const Json& value, bool msgpack) {
  if (msgpack) {
    std::string bytes;
    Json::to_msgpack(value, bytes);
    return bytes;
  }
  return value.is_string() ? value.get<std::string>() : value.dump();
}

void write_value(std::string_view bytes, bool msgpack, Json& line) {
  auto document = decoded(bytes, msgpack);
  if (document) {
    const auto back = read_back(*document, msgpack);
    if (back == bytes) {
      line["value"] = std::move(*document);
      return;
    }
    if (!back) document.reset();  // too deep to show even for reading
  }
  if (!msgpack && jsonl::is_valid_utf8(bytes)) {
    line["value"] = std::string(bytes);  // a string is sent as its characters: exact
    return;
  }
  if (document) line["value"] = std::move(*document);
  line["value_base64"] = jsonl::base64_encode(bytes);
}

}  // namespace kernel::detail
