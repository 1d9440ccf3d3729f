#include "kernel/outgoing.hpp"

namespace kernel {

std::string_view content_type_header(ContentType type) noexcept {
  switch (type) {
    case ContentType::json: return "application/json";
    case ContentType::text: return "text/plain; charset=utf-8";
    case ContentType::bytes: return "application/octet-stream";
    case ContentType::msgpack: return "application/msgpack";
    case ContentType::protobuf: return "application/x-protobuf";
    case ContentType::avro: return "application/avro";
  }
  return "application/octet-stream";
}

Outgoing& Outgoing::json(const nlohmann::json& document) & {
  // Invalid UTF-8 in a string is replaced rather than thrown on: the handler's document is sent.
  return set_value(document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), ContentType::json);
}

Outgoing& Outgoing::msgpack(const nlohmann::json& document) & {
  std::string encoded;
  nlohmann::json::to_msgpack(document, encoded);
  return set_value(std::move(encoded), ContentType::msgpack);
}

}  // namespace kernel
