#include "kernel/jsonl.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <fstream>

#include <nlohmann/json.hpp>

#include "broker/jsonl_headers.hpp"
#include "broker/jsonl_parse.hpp"
#include "broker/jsonl_value.hpp"
#include "core/base64.hpp"
#include "core/bounded_json.hpp"
#include "core/payload_format.hpp"
#include "core/rfc3339.hpp"
#include "kernel/errors.hpp"

namespace kernel::jsonl {

namespace {

/// A string field, or its `<name>_base64` twin, decoded.
std::optional<std::string> text_or_base64(const nlohmann::ordered_json& object, const std::string& name,
                                          const std::string& where) {
  const auto b64 = name + "_base64";
  if (object.contains(b64) && !object[b64].is_null()) {
    if (!object[b64].is_string()) throw ParseError(where + ": \"" + b64 + "\" must be a string");
    try {
      return base64_decode(object[b64].get<std::string>());
    } catch (const std::invalid_argument& error) {
      throw ParseError(where + ": \"" + b64 + "\": " + error.what());
    }
  }
  return std::nullopt;
}

/// What a sample may expect, and the dead-letter reasons it may name.
constexpr std::array<std::string_view, 3> expected_fates = {"output", "dead_letter", "business_error"};
/// Every reason a dead letter can carry: all of them but schema_registry_unavailable, which only
/// ever prefixes a retries_exhausted message.
constexpr auto dead_letter_reasons = [] {
  std::array<FailureReason, all_failure_reasons.size() - 1> reasons{};
  std::size_t n = 0;
  for (auto reason : all_failure_reasons) {
    if (reason != FailureReason::schema_registry_unavailable) reasons[n++] = reason;
  }
  return reasons;
}();

template <class Names>
std::string quoted_list(const Names& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += i + 1 == names.size() ? " or " : ", ";
    out += "\"" + std::string(names[i]) + "\"";
  }
  return out;
}

/// The optional `expect` and `expect_reason` fields of a sample.
void read_expectation(const nlohmann::ordered_json& object, const std::string& where, Record& record) {
  if (object.contains("expect") && !object["expect"].is_null()) {
    const auto& expect = object["expect"];
    const bool known = expect.is_string() && std::find(expected_fates.begin(), expected_fates.end(),
                                                       expect.get<std::string>()) != expected_fates.end();
    if (!known) {
      throw ParseError(where + ": \"expect\" must be " + quoted_list(expected_fates) + ", not " + expect.dump());
    }
    record.expect = expect.get<std::string>();
  }
  if (object.contains("expect_reason") && !object["expect_reason"].is_null()) {
    const auto& reason = object["expect_reason"];
    if (record.expect != "dead_letter") {
      throw ParseError(where + ": \"expect_reason\" goes with \"expect\": \"dead_letter\"");
    }
    std::array<std::string_view, dead_letter_reasons.size()> names;
    std::transform(dead_letter_reasons.begin(), dead_letter_reasons.end(), names.begin(),
                   [](FailureReason r) { return to_string(r); });
    if (!reason.is_string() || std::find(names.begin(), names.end(), reason.get<std::string>()) == names.end()) {
      throw ParseError(where + ": \"expect_reason\" must be " + quoted_list(names) + ", not " + reason.dump());
    }
    record.expect_reason = reason.get<std::string>();
  }
}

bool is_msgpack(const Headers& headers) {
  return detail::payload_format(headers.get("content-type")) == detail::PayloadFormat::msgpack;
}

}  // namespace

Record parse_line(std::string_view line, std::size_t line_number) {
  const std::string where = line_number ? "line " + std::to_string(line_number) : "record";
  nlohmann::ordered_json object;
  try {
    object = detail::parse_line_json(line);
  } catch (const nlohmann::json::exception& error) {
    // parse_error, or out_of_range for a number a double cannot hold (1e999)
    throw ParseError(where + ": not JSON: " + error.what());
  } catch (const detail::JsonTooDeep& error) {
    throw ParseError(where + ": " + error.what() +
                     "; give a deeper value as a string (\"value\": \"[[...]]\") to send its characters as they are");
  } catch (const detail::RepeatedName& error) {
    throw ParseError(where + ": " + error.what() +
                     "; give headers that repeat a name as a list (\"headers\": [[\"h\", \"1\"], [\"h\", \"2\"]]) and "
                     "a value that does as a string");
  }
  if (!object.is_object()) throw ParseError(where + ": expected a JSON object with a \"value\"");

  Record record;
  auto exact_value = text_or_base64(object, "value", where);
  if (exact_value) {
    record.value = std::move(*exact_value);
  } else if (!object.contains("value")) {
    throw ParseError(where + ": \"value\" is required");
  }

  if (auto key = text_or_base64(object, "key", where)) {
    record.key = std::move(*key);
  } else if (object.contains("key") && !object["key"].is_null()) {
    if (!object["key"].is_string()) throw ParseError(where + ": \"key\" must be a string or null");
    record.key = object["key"].get<std::string>();
  }

  if (object.contains("headers") && !object["headers"].is_null()) {
    record.headers = detail::read_headers(object["headers"], where);
  }
  if (!exact_value) {
    // Under a MessagePack content-type any value, a string too, is sent encoded (format()
    // shows one so); value_base64 gives the bytes exactly.
    record.value = detail::value_bytes(object["value"], is_msgpack(record.headers));
  }
  if (object.contains("partition") && !object["partition"].is_null()) {
    if (!object["partition"].is_number_integer() || object["partition"].get<long long>() < 0) {
      throw ParseError(where + ": \"partition\" must be a non-negative integer");
    }
    record.partition = object["partition"].get<std::int32_t>();
  }
  read_expectation(object, where, record);
  return record;
}

std::vector<Record> read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ParseError(path.string() + ": cannot open file");
  std::vector<Record> records;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      records.push_back(parse_line(line, number));
      records.back().line = number;
    } catch (const ParseError& error) {
      throw ParseError(path.string() + ": " + error.what());
    }
  }
  return records;
}

std::string format(const Record& record) {
  nlohmann::ordered_json out;
  out["topic"] = record.topic;
  out["partition"] = record.partition.value_or(-1);
  out["offset"] = record.offset;
  if (record.timestamp_ms) out["timestamp"] = format_timestamp(*record.timestamp_ms);
  if (!record.key) {
    out["key"] = nullptr;
  } else if (is_valid_utf8(*record.key)) {
    out["key"] = *record.key;
  } else {
    out["key_base64"] = base64_encode(*record.key);
  }
  out["headers"] = detail::headers_field(record.headers);
  detail::write_value(record.value, is_msgpack(record.headers), out);
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Record from_rdkafka(const rd_kafka_message_t* message) {
  Record record;
  record.topic = message->rkt ? rd_kafka_topic_name(message->rkt) : "";
  record.partition = message->partition;
  record.offset = message->offset;
  rd_kafka_timestamp_type_t type;
  const auto ts = rd_kafka_message_timestamp(message, &type);
  if (ts >= 0) record.timestamp_ms = ts;
  if (message->key) record.key = std::string(static_cast<const char*>(message->key), message->key_len);
  if (message->payload) record.value.assign(static_cast<const char*>(message->payload), message->len);
  rd_kafka_headers_t* headers = nullptr;
  // rd_kafka_message_headers() wants a non-const message; it only parses lazily.
  if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(message), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      if (value) {
        record.headers.add(name, std::string(static_cast<const char*>(value), size));
      } else {
        record.headers.add_null(name);
      }
    }
  }
  return record;
}

std::string base64_encode(std::string_view bytes) { return detail::base64_encode(bytes); }

std::string base64_decode(std::string_view text) {
  auto bytes = detail::base64_decode(text);
  if (!bytes) throw std::invalid_argument("not base64 (A-Z, a-z, 0-9, + and /, padded with = to a multiple of 4)");
  return std::move(*bytes);
}

std::string format_timestamp(std::int64_t epoch_ms) { return detail::format_rfc3339(epoch_ms); }

}  // namespace kernel::jsonl
