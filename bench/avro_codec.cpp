// bench-avro-codec: what decoding and encoding one message costs in Avro (the codec of
// runtime/src/schema/, on a compiled writer schema) against JSON text (nlohmann::json), for the
// same order record of about a dozen fields. Single thread, no broker: the codec alone.
//
//   bench-avro-codec [--messages N]   (default 200000; prints ns per message and the ratios)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "schema/avro_codec.hpp"
#include "schema/avro_schema.hpp"

namespace {

const char* const schema_text = R"({"type": "record", "name": "Order", "namespace": "shop", "fields": [
  {"name": "id", "type": "string"}, {"name": "customer", "type": "string"},
  {"name": "qty", "type": "int"}, {"name": "total_cents", "type": "long"}, {"name": "price", "type": "double"},
  {"name": "paid", "type": "boolean"},
  {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED"]}},
  {"name": "tags", "type": {"type": "array", "items": "string"}},
  {"name": "note", "type": ["null", "string"], "default": null},
  {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
    {"name": "city", "type": "string"}, {"name": "zip", "type": "string"}]}}]})";

const nlohmann::json order = {{"id", "o-123456"},
                              {"customer", "c-98765"},
                              {"qty", 3},
                              {"total_cents", 129900},
                              {"price", 433.0},
                              {"paid", true},
                              {"status", "PAID"},
                              {"tags", {"express", "gift"}},
                              {"note", "leave at the door"},
                              {"address", {{"city", "Oslo"}, {"zip", "0150"}}}};

template <class Body>
double ns_per_message(long messages, Body body) {
  const auto started = std::chrono::steady_clock::now();
  for (long i = 0; i < messages; ++i) body();
  const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - started;
  return took.count() / static_cast<double>(messages);
}

}  // namespace

int main(int argc, char** argv) {
  long messages = 200000;
  if (argc == 3 && std::strcmp(argv[1], "--messages") == 0) messages = std::strtol(argv[2], nullptr, 10);
  if (messages <= 0) {
    std::fprintf(stderr, "usage: bench-avro-codec [--messages N]\n");
    return 2;
  }
  const auto schema = kernel::schema::parse_avro_schema(schema_text);
  const std::string json_text = order.dump();
  std::string avro_bytes;
  kernel::schema::avro_encode(*schema, order, avro_bytes);
  if (kernel::schema::avro_decode(*schema, avro_bytes) != order) {
    std::fprintf(stderr, "the Avro round trip changed the record\n");
    return 1;
  }
  std::size_t sink = 0;  // keeps each result alive so the loops are not optimised away
  kernel::schema::AvroSchemaCache cache;
  const double json_decode = ns_per_message(messages, [&] { sink += nlohmann::json::parse(json_text).size(); });
  const double avro_decode =
      ns_per_message(messages, [&] { sink += kernel::schema::avro_decode(*schema, avro_bytes).size(); });
  std::string out;
  const double json_encode = ns_per_message(messages, [&] { sink += order.dump().size(); });
  const double avro_encode = ns_per_message(messages, [&] {
    out.clear();
    kernel::schema::avro_encode(*cache.get(schema_text), order, out);  // as Outgoing::avro() will: the cache by text
    sink += out.size();
  });
  std::printf("record: %zu bytes as JSON text, %zu as Avro; %ld messages\n", json_text.size(), avro_bytes.size(),
              messages);
  std::printf("decode: json %.0f ns, avro %.0f ns (avro/json %.2f)\n", json_decode, avro_decode,
              avro_decode / json_decode);
  std::printf("encode: json %.0f ns, avro %.0f ns incl. the schema cache lookup (avro/json %.2f)\n", json_encode,
              avro_encode, avro_encode / json_encode);
  return sink == 0;
}
