#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "kernel/jsonl.hpp"

namespace jsonl_test {

using kernel::jsonl::parse_line;

TEST_CASE("JSON Lines records: string values raw, other values as compact JSON") {
  auto object = parse_line(R"({"key": "k1", "headers": {"h": "v"}, "value": {"a": 1, "b": [1, 2]}})");
  CHECK(object.key == "k1");
  CHECK(object.value == R"({"a":1,"b":[1,2]})");
  REQUIRE(object.headers.size() == 1);
  CHECK(object.headers[0] == std::pair<std::string, std::string>("h", "v"));

  auto text = parse_line(R"({"value": "not json"})");
  CHECK(text.value == "not json");
  CHECK_FALSE(text.key);

  auto null_key = parse_line(R"({"key": null, "value": 3, "partition": 2})");
  CHECK_FALSE(null_key.key);
  CHECK(null_key.value == "3");
  CHECK(null_key.partition == 2);
}

TEST_CASE("a sample may expect any reason a dead letter carries, and none that never stands alone") {
  for (const auto* reason : {"topic_not_allowed", "reply_to_not_allowed", "schema_not_found", "wrong_magic_byte",
                             "truncated_payload", "schema_mismatch"}) {
    CAPTURE(reason);
    auto sample =
        parse_line(std::string(R"({"value": "x", "expect": "dead_letter", "expect_reason": ")") + reason + "\"}");
    CHECK(sample.expect_reason == reason);
  }
  // A registry that does not answer is a transient failure: its dead letter says retries_exhausted.
  CHECK_THROWS_AS(
      parse_line(R"({"value": "x", "expect": "dead_letter", "expect_reason": "schema_registry_unavailable"})"),
      kernel::jsonl::ParseError);
}

TEST_CASE("bytes that are not UTF-8 travel as base64, in and out") {
  const std::string bytes("\xff\x00\x01 binary", 10);
  auto record = parse_line(R"({"key_base64": ")" + kernel::jsonl::base64_encode(bytes) + R"(", "value_base64": ")" +
                           kernel::jsonl::base64_encode(bytes) + R"(", "headers": {"raw": {"base64": "/w=="}}})");
  CHECK(record.key == bytes);
  CHECK(record.value == bytes);
  CHECK(record.headers[0].second == "\xff");

  record.topic = "t";
  record.partition = 0;
  record.offset = 7;
  record.timestamp_ms = 1795000000123;
  const auto out = nlohmann::json::parse(kernel::jsonl::format(record));
  CHECK(out["key_base64"] == kernel::jsonl::base64_encode(bytes));
  CHECK(out["value_base64"] == kernel::jsonl::base64_encode(bytes));
  CHECK(out["headers"]["raw"]["base64"] == "/w==");
  CHECK(out["offset"] == 7);
  CHECK(out["timestamp"] == "2026-11-18T11:06:40.123Z");
}

TEST_CASE("a value that parses as JSON is shown as JSON, otherwise as a string") {
  kernel::jsonl::Record record;
  record.topic = "t";
  record.value = R"({"x":1})";
  CHECK(nlohmann::json::parse(kernel::jsonl::format(record))["value"]["x"] == 1);
  record.value = "plain words";
  CHECK(nlohmann::json::parse(kernel::jsonl::format(record))["value"] == "plain words");
}

TEST_CASE("a null header stays null, in and out; an empty one stays empty") {
  auto record = parse_line(R"({"headers": {"absent": null, "empty": ""}, "value": 1})");
  REQUIRE(record.headers.size() == 2);
  CHECK(record.headers.is_null(0));
  CHECK_FALSE(record.headers.is_null(1));
  record.topic = "t";
  const auto out = nlohmann::json::parse(kernel::jsonl::format(record));
  CHECK(out["headers"]["absent"].is_null());
  CHECK(out["headers"]["empty"] == "");
}

TEST_CASE("bad lines are refused with the line number and the problem") {
  CHECK_THROWS_WITH_AS(parse_line("{", 3), doctest::Contains("line 3: not JSON"), kernel::jsonl::ParseError);
  CHECK_THROWS_WITH_AS(parse_line(R"({"key": "k"})", 4), "line 4: \"value\" is required", kernel::jsonl::ParseError);
  CHECK_THROWS_WITH_AS(parse_line(R"([1])", 5), doctest::Contains("expected a JSON object"), kernel::jsonl::ParseError);
  CHECK_THROWS_WITH_AS(parse_line(R"({"value": 1, "headers": {"h": 1}})", 6), doctest::Contains("header \"h\""),
                       kernel::jsonl::ParseError);
  CHECK_THROWS_AS(parse_line(R"({"value_base64": "***"})"), kernel::jsonl::ParseError);
  CHECK_THROWS_WITH_AS(parse_line(R"({"value": 1e999})", 7),
                       "line 7: not JSON: [json.exception.out_of_range.406] number overflow parsing '1e999'",
                       kernel::jsonl::ParseError);
}

TEST_CASE("JSON nested deeper than max_json_depth: refused in a line, shown as a string on output") {
  // 100,000 levels: serialising them recursed once per level and overflowed the stack.
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  CHECK_THROWS_WITH_AS(parse_line(R"({"value": )" + deep + "}", 2),
                       "line 2: JSON nested deeper than 512 levels (kernel::max_json_depth); give a deeper "
                       "value as a string (\"value\": \"[[...]]\") to send its characters as they are",
                       kernel::jsonl::ParseError);
  CHECK(parse_line(R"({"value": ")" + deep + "\"}").value == deep);

  kernel::jsonl::Record record;
  record.topic = "t";
  record.value = deep;
  CHECK(nlohmann::json::parse(kernel::jsonl::format(record))["value"] == deep);
}

namespace {

/// What a line of `record` reads back as.
kernel::jsonl::Record read_back(const kernel::jsonl::Record& record) {
  return parse_line(kernel::jsonl::format(record));
}

/// A record as a consumer gets it, holding `value`.
kernel::jsonl::Record consumed(std::string value) {
  kernel::jsonl::Record record;
  record.topic = "t";
  record.partition = 0;
  record.offset = 0;
  record.value = std::move(value);
  return record;
}

kernel::jsonl::Record msgpack_record(std::string bytes) {
  auto record = consumed(std::move(bytes));
  record.headers.add("content-type", "application/msgpack");
  return record;
}

}  // namespace

TEST_CASE("a MessagePack string that is not UTF-8 survives a line byte for byte, still shown decoded") {
  const std::string bytes("\x81\xa4name\xa1\xff", 8);  // {"name": "\xff"}
  const auto line = kernel::jsonl::format(msgpack_record(bytes));
  CHECK(parse_line(line).value == bytes);
  auto shown = nlohmann::json::parse(line);
  CHECK(shown["value_base64"] == kernel::jsonl::base64_encode(bytes));
  CHECK(shown["value"]["name"] == "\xef\xbf\xbd");  // U+FFFD, for reading only
  CHECK(shown["headers"]["content-type"] == "application/msgpack");
}

TEST_CASE("a MessagePack bin value survives a line byte for byte") {
  const std::string bytes("\xc4\x03\x01\x02\x03", 5);  // bin 8 of three bytes
  const auto line = kernel::jsonl::format(msgpack_record(bytes));
  CHECK(parse_line(line).value == bytes);
  CHECK(nlohmann::json::parse(line)["value_base64"] == kernel::jsonl::base64_encode(bytes));
}

TEST_CASE("a MessagePack value that re-encodes to the same bytes is shown only as the JSON it decodes to") {
  std::string bytes;
  nlohmann::ordered_json::to_msgpack(nlohmann::ordered_json{{"z", 1}, {"a", {1.5, "x", nullptr}}}, bytes);
  const auto line = kernel::jsonl::format(msgpack_record(bytes));
  CHECK(line.find(R"("value":{"z":1,"a":[1.5,"x",null]}})") != std::string::npos);
  CHECK(line.find("value_base64") == std::string::npos);
  CHECK(parse_line(line).value == bytes);
}

TEST_CASE("a JSON value whose compact form is not its bytes is shown as the string it is") {
  auto record = consumed("");
  for (const std::string text : {R"({ "a": 1 })", R"({"a":1,"a":2})", "1.50", "1e2", "-0", R"("\u00e9")", R"("a\/b")",
                                 R"("just a string")", " 1", "123456789012345678901234567890"}) {
    CAPTURE(text);
    record.value = text;
    const auto line = kernel::jsonl::format(record);
    CHECK(nlohmann::json::parse(line)["value"] == text);
    CHECK(read_back(record).value == text);
  }
}

TEST_CASE("a JSON value in its compact form is shown as JSON, its names in their order") {
  auto record = consumed("");
  for (const std::string text : {R"({"b":1,"a":[true,null,1.0,-2,"\u0001é"]})", "1.0", "1e+100", "-0.0", "[]"}) {
    CAPTURE(text);
    record.value = text;
    const auto line = kernel::jsonl::format(record);
    CHECK(line.find(R"("value":)" + text + "}") != std::string::npos);
    CHECK(read_back(record).value == text);
  }
}

TEST_CASE("a value nested to the depth limit is shown so that its line reads back") {
  // The line's own object is one level more than the value.
  SUBCASE("JSON") {
    const auto record = consumed(std::string(512, '[') + std::string(512, ']'));
    CHECK(read_back(record).value == record.value);
  }
  SUBCASE("MessagePack") {
    const auto record = msgpack_record(std::string(511, '\x91') + "\x90");  // [[...[]...]]
    CHECK(read_back(record).value == record.value);
  }
}

TEST_CASE("headers keep their order, repeated names and names that are not UTF-8") {
  auto record = consumed("1");
  SUBCASE("order") { record.headers = kernel::Headers{{"b", "1"}, {"a", "2"}}; }
  SUBCASE("a repeated name") { record.headers.add("h", "1").add_null("h").add("h", "\xff"); }
  SUBCASE("a name that is not UTF-8") { record.headers.add("\xfe", "v"); }
  CHECK(read_back(record).headers == record.headers);
}

TEST_CASE("a name given twice in one object of a line is refused") {
  CHECK_THROWS_WITH_AS(parse_line(R"({"value": 1, "headers": {"h": "1", "h": "2"}})", 2),
                       doctest::Contains("line 2: \"h\" appears twice in one object"), kernel::jsonl::ParseError);
  CHECK_THROWS_WITH_AS(parse_line(R"({"value": {"a": 1, "a": 2}})", 3),
                       doctest::Contains("line 3: \"a\" appears twice in one object"), kernel::jsonl::ParseError);
}

TEST_CASE("base64 round trip and UTF-8 validation") {
  for (std::string sample : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    CHECK(kernel::jsonl::base64_decode(kernel::jsonl::base64_encode(sample)) == sample);
  }
  CHECK(kernel::jsonl::base64_encode("foobar") == "Zm9vYmFy");
  CHECK(kernel::jsonl::is_valid_utf8("héllo ✓"));
  CHECK_FALSE(kernel::jsonl::is_valid_utf8("\xc3("));
  CHECK_FALSE(kernel::jsonl::is_valid_utf8("\xed\xa0\x80"));  // a surrogate
}

}  // namespace jsonl_test
