// The Avro codec (runtime/src/schema/avro_codec.hpp): schemas parsed by avro-c and cached,
// binary <-> JSON for every Avro type, and untrusted input refused with a clear error.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "schema/avro_codec.hpp"
#include "schema/avro_schema.hpp"

namespace avro_codec_test {

namespace {

using kernel::schema::AvroError;
using kernel::schema::AvroErrorKind;
using nlohmann::json;

const char* const order_schema = R"({
  "type": "record", "name": "Order", "namespace": "shop",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "qty", "type": "int"},
    {"name": "total", "type": "long"},
    {"name": "price", "type": "double"},
    {"name": "ratio", "type": "float"},
    {"name": "paid", "type": "boolean"},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED"]}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attributes", "type": {"type": "map", "values": "long"}},
    {"name": "note", "type": ["null", "string"], "default": null},
    {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
    {"name": "blob", "type": "bytes"},
    {"name": "customer", "type": {"type": "record", "name": "Customer", "fields": [
      {"name": "name", "type": "string"},
      {"name": "address", "type": ["null", {"type": "record", "name": "Address", "fields": [
        {"name": "city", "type": "string"}, {"name": "zip", "type": "string", "default": "00000"}]}]}
    ]}}
  ]
})";

const json order = {
    {"id", "o-1"},
    {"qty", 3},
    {"total", 9007199254740993},  // 2^53 + 1: a double would round it
    {"price", 12.5},
    {"ratio", 0.5},
    {"paid", true},
    {"status", "PAID"},
    {"tags", {"a", "b"}},
    {"attributes", {{"x", -1}, {"y", 1}}},
    {"note", "fragile"},
    {"digest", "AAECAw=="},
    {"blob", "aGVsbG8="},
    {"customer", {{"name", "Ann"}, {"address", {{"city", "Oslo"}, {"zip", "0150"}}}}},
};

std::string encoded(const char* schema_text, const json& value) {
  std::string bytes;
  kernel::schema::avro_encode(*kernel::schema::parse_avro_schema(schema_text), value, bytes);
  return bytes;
}

json decoded(const char* schema_text, std::string_view bytes) {
  return kernel::schema::avro_decode(*kernel::schema::parse_avro_schema(schema_text), bytes);
}

/// The AvroError `call` throws (and FAIL if none).
template <class Call>
AvroError avro_error(Call call) {
  try {
    call();
  } catch (const AvroError& error) {
    return error;
  }
  FAIL("no AvroError");
  return AvroError(AvroErrorKind::mismatch, "");
}

}  // namespace

TEST_CASE("avro: a record with every type survives encode then decode") {
  CHECK(decoded(order_schema, encoded(order_schema, order)) == order);
}

TEST_CASE("avro: bytes are Avro's binary encoding (zigzag varints, length prefixes)") {
  const char* schema =
      R"({"type":"record","name":"R","fields":[{"name":"n","type":"long"},{"name":"s","type":"string"}]})";
  CHECK(encoded(schema, {{"n", -2}, {"s", "hi"}}) == std::string("\x03\x04hi", 4));
  CHECK(encoded(R"("long")", INT64_MIN) == std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10));
  CHECK(decoded(R"("long")", std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10)) == INT64_MIN);
}

TEST_CASE("avro: a long beyond 2^53 keeps every bit") {
  const json big = INT64_MAX;
  CHECK(decoded(R"("long")", encoded(R"("long")", big)).get<std::int64_t>() == INT64_MAX);
}

TEST_CASE("avro: a null-or-T union is the plain value, or null") {
  const char* schema = R"(["null","string"])";
  CHECK(encoded(schema, "x") == std::string("\x02\x02x", 3));
  CHECK(encoded(schema, nullptr) == std::string("\x00", 1));
  CHECK(decoded(schema, std::string("\x02\x02x", 3)) == "x");
  CHECK(decoded(schema, std::string("\x00", 1)).is_null());
}

TEST_CASE("avro: a union takes the first branch the value fits, or Avro's {type: value} form") {
  const char* schema = R"(["int","string","bytes",{"type":"record","name":"A","fields":[{"name":"a","type":"int"}]},
                           {"type":"record","name":"B","fields":[{"name":"b","type":"int"}]}])";
  CHECK(encoded(schema, 5)[0] == '\x00');
  CHECK(encoded(schema, "aGk=")[0] == '\x02');               // string before bytes
  CHECK(encoded(schema, {{"b", 1}})[0] == '\x08');           // the record whose fields fit
  CHECK(encoded(schema, {{"bytes", "aGk="}})[0] == '\x04');  // Avro's JSON encoding names the branch
}

TEST_CASE("avro: a missing field takes the schema's default, nested records too") {
  const char* schema = R"({"type":"record","name":"R","fields":[
      {"name":"a","type":"int","default":7},
      {"name":"u","type":["null","int"],"default":null},
      {"name":"b","type":"bytes","default":"\u00ff"},
      {"name":"r","type":{"type":"record","name":"S","fields":[{"name":"x","type":"string","default":"d"}]},"default":{}}]})";
  CHECK(decoded(schema, encoded(schema, json::object())) ==
        json{{"a", 7}, {"u", nullptr}, {"b", "/w=="}, {"r", {{"x", "d"}}}});
}

TEST_CASE("avro: a recursive schema (a linked list) round-trips") {
  const char* schema = R"({"type":"record","name":"Node","fields":[{"name":"v","type":"int"},
                           {"name":"next","type":["null","Node"]}]})";
  const json list = {{"v", 1}, {"next", {{"v", 2}, {"next", nullptr}}}};
  CHECK(decoded(schema, encoded(schema, list)) == list);
}

TEST_CASE("avro: a schema avro-c refuses is invalid_schema, with avro-c's reason") {
  const auto error = avro_error([] { kernel::schema::parse_avro_schema(R"({"type":"record","name":"R"})"); });
  CHECK(error.kind() == AvroErrorKind::invalid_schema);
  CHECK(std::string(error.what()).starts_with("not an Avro schema: "));
  CHECK(avro_error([] { kernel::schema::parse_avro_schema("{not json"); }).kind() == AvroErrorKind::invalid_schema);
}

TEST_CASE("avro: a value that does not fit names the field") {
  auto wrong = order;
  wrong["customer"]["address"]["city"] = 5;
  CHECK(std::string(avro_error([&] { encoded(order_schema, wrong); }).what()) ==
        "$.customer.address.city: expected a string, got an integer");
  wrong = order;
  wrong["tags"][1] = 2;
  CHECK(std::string(avro_error([&] { encoded(order_schema, wrong); }).what()) ==
        "$.tags[1]: expected a string, got an integer");
  wrong = order;
  wrong.erase("qty");
  CHECK(std::string(avro_error([&] { encoded(order_schema, wrong); }).what()) ==
        "$.qty: missing, and shop.Order gives it no default");
  wrong = order;
  wrong["extra"] = 1;
  CHECK(std::string(avro_error([&] { encoded(order_schema, wrong); }).what()) ==
        "field 'extra' is not in record shop.Order");
  wrong = order;
  wrong["status"] = "LOST";
  CHECK(std::string(avro_error([&] { encoded(order_schema, wrong); }).what()) ==
        "$.status: 'LOST' is not a symbol of shop.Status");
  wrong = order;
  wrong["qty"] = 4294967296;
  CHECK(avro_error([&] { encoded(order_schema, wrong); }).kind() == AvroErrorKind::mismatch);
}

TEST_CASE("avro: an encode that fails leaves the output as it was") {
  std::string out = "keep";
  auto wrong = order;
  wrong["digest"] = "AAEC";  // 3 bytes for a fixed of 4
  CHECK_THROWS_AS(kernel::schema::avro_encode(*kernel::schema::parse_avro_schema(order_schema), wrong, out), AvroError);
  CHECK(out == "keep");
}

TEST_CASE("avro: every cut of a payload is truncated, never a crash") {
  const auto bytes = encoded(order_schema, order);
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    const auto error = avro_error([&] { decoded(order_schema, std::string_view(bytes).substr(0, size)); });
    CHECK(error.kind() == AvroErrorKind::truncated);
  }
}

TEST_CASE("avro: a huge length prefix is refused before anything is allocated for it") {
  // A string whose length says 2^62 bytes.
  const auto error =
      avro_error([] { decoded(R"("string")", std::string("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 10)); });
  CHECK(error.kind() == AvroErrorKind::truncated);
  CHECK(avro_error([] { decoded(R"("bytes")", std::string("\x01", 1)); }).kind() == AvroErrorKind::corrupt);  // -1
}

TEST_CASE("avro: an array of 2^62 nulls is refused, not decoded") {
  const auto error = avro_error([] {
    decoded(R"({"type":"array","items":"null"})", std::string("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01\x00", 11));
  });
  CHECK(error.kind() == AvroErrorKind::corrupt);
  CHECK(std::string(error.what()) == "more values than the payload's size allows");
}

TEST_CASE("avro: corrupt bytes get their own reason: union index, enum index, UTF-8, boolean") {
  CHECK(avro_error([] { decoded(R"(["null","int"])", std::string("\x04", 1)); }).kind() == AvroErrorKind::corrupt);
  CHECK(avro_error([] { decoded(R"({"type":"enum","name":"E","symbols":["A"]})", std::string("\x02", 1)); }).kind() ==
        AvroErrorKind::corrupt);
  CHECK(avro_error([] { decoded(R"("string")", std::string("\x02\xff", 2)); }).kind() == AvroErrorKind::corrupt);
  CHECK(avro_error([] { decoded(R"("boolean")", std::string("\x02", 1)); }).kind() == AvroErrorKind::corrupt);
  CHECK(avro_error([] { decoded(R"("long")", std::string(11, '\xff')); }).kind() == AvroErrorKind::corrupt);
}

TEST_CASE("avro: random bytes and random corruptions decode or fail with an AvroError, never crash") {
  const auto schema = kernel::schema::parse_avro_schema(order_schema);
  const auto valid = encoded(order_schema, order);
  std::uint64_t state = 42;
  const auto next = [&] { return state = state * 6364136223846793005ULL + 1442695040888963407ULL; };
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = valid;
    if (round % 2 == 0) {
      bytes.resize(next() % 64);
      for (auto& byte : bytes) byte = static_cast<char>(next() >> 56);
    } else {
      bytes[next() % bytes.size()] = static_cast<char>(next() >> 56);
    }
    try {
      kernel::schema::avro_decode(*schema, bytes);
    } catch (const AvroError&) {
    }
  }
  CHECK(state != 0);
}

TEST_CASE("avro: bytes left after the value are a mismatch (another writer schema)") {
  const auto error = avro_error([] { decoded(R"("int")", std::string("\x02\x02", 2)); });
  CHECK(error.kind() == AvroErrorKind::mismatch);
  CHECK(std::string(error.what()) == "1 bytes left after the value: written with another schema?");
}

TEST_CASE("avro: the decoder's nesting is bounded") {
  const char* schema = R"({"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]})";
  const std::string deep(1000, '\x02');  // 1000 levels of "the Node branch"
  CHECK(avro_error([&] { decoded(schema, deep); }).kind() == AvroErrorKind::corrupt);
}

TEST_CASE("avro: the schema cache parses a text once and stays bounded") {
  kernel::schema::AvroSchemaCache cache(4);
  const auto first = cache.get(order_schema);
  CHECK(cache.get(order_schema) == first);
  for (int i = 0; i < 10; ++i) cache.get(R"({"type":"enum","name":"E)" + std::to_string(i) + R"(","symbols":["A"]})");
  CHECK(cache.size() <= 4);
}

}  // namespace avro_codec_test
