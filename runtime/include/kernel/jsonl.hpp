#pragma once
/// Messages as JSON Lines: sample files, kernel-dev-broker --seed and --tail, --samples output.
///
///   {"key": "k1", "headers": {"h": "v"}, "value": {...}}
///
/// A string value is its raw characters; any other JSON value is its compact JSON text.
/// Under a `content-type: application/msgpack` header the value is MessagePack: read, any
/// JSON value (a string too) is encoded; written, it is shown as the JSON it decodes to.
/// Bytes that are not UTF-8 travel as key_base64, value_base64 or {"base64": "..."}; a header
/// without a value (null) is null; headers that repeat a name are a list of [name, value].
/// A written line reads back as the same key, value and headers, byte for byte: a value is
/// shown decoded only when that reads back as its bytes (value_base64 is added otherwise).
/// A sample may say what it should become (`--samples` checks it; it is never sent):
///
///   {"value": "not json", "expect": "dead_letter", "expect_reason": "deserialization_error"}
///
/// See docs/reference.md, "Messages as JSON Lines".
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernel/headers.hpp"

struct rd_kafka_message_s;

namespace kernel::jsonl {

struct Record {
  std::optional<std::string> key;
  std::string value;
  /// Headers in order; one without a value (null) reads as empty and is_null() tells it.
  Headers headers;
  std::optional<std::int32_t> partition;
  /// What the message should become: "output", "dead_letter" or "business_error"; and for a
  /// dead letter, optionally its `dlq-failure-reason`. Read from samples, never produced.
  std::optional<std::string> expect;
  std::optional<std::string> expect_reason;
  /// The line it came from (read_file), for messages about it; 0 otherwise.
  std::size_t line = 0;
  // Filled on output.
  std::string topic;
  std::int64_t offset = -1;
  std::optional<std::int64_t> timestamp_ms;
};

/// A line that is not a valid record; what() names the line and the problem.
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses one line (line_number only for messages). Throws ParseError.
Record parse_line(std::string_view line, std::size_t line_number = 0);
/// Reads a whole file; blank lines are skipped. Throws ParseError (with the file name).
std::vector<Record> read_file(const std::filesystem::path& path);
/// A record as one output line (no trailing newline), with topic, partition, offset, timestamp;
/// parse_line() gives back its key, value and headers byte for byte.
std::string format(const Record& record);
/// A consumed or delivered librdkafka message as a Record.
Record from_rdkafka(const rd_kafka_message_s* message);

std::string base64_encode(std::string_view bytes);
/// Throws std::invalid_argument on malformed input.
std::string base64_decode(std::string_view text);
bool is_valid_utf8(std::string_view text) noexcept;
/// RFC 3339 UTC with milliseconds: 2026-11-23T03:09:38.123Z
std::string format_timestamp(std::int64_t epoch_ms);

}  // namespace kernel::jsonl
