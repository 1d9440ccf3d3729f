// Avro through the schema registry (the stand-in): Outgoing::avro() and Message::avro() round
// trip, and each way a value can be wrong gets its reason, as Protobuf's do.
#include <doctest/doctest.h>

#include <httplib.h>

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "kernel/errors.hpp"
#include "kernel/message.hpp"
#include "kernel/outgoing.hpp"
#include "schema/output_registration.hpp"
#include "schema/registry_instance.hpp"
#include "schema_registry_standin.hpp"

namespace schema_avro_test {

using namespace kernel;
using namespace std::string_literals;
using schema_registry_standin::Standin;

namespace {

const std::string order_schema =
    R"({"type": "record", "name": "Order", "namespace": "shop", "fields": [{"name": "id", "type": "string"},
       {"name": "qty", "type": "int"}]})";

struct Installed {
  explicit Installed(const std::string& url, SubjectStrategy strategy = SubjectStrategy::topic) {
    schema::RegistryOptions options;
    options.url = url;
    options.timeout = std::chrono::milliseconds(2000);
    auto instance = std::make_shared<schema::RegistryInstance>();
    instance->registry = std::make_shared<schema::SchemaRegistry>(options);
    instance->subject_strategy = strategy;
    schema::install_registry(instance);
  }
  ~Installed() { schema::install_registry(nullptr); }
};

std::string encoded(const nlohmann::json& value, const std::string& topic = "orders") {
  Outgoing out;
  out.topic(topic).avro(value, order_schema);
  CHECK(out.content_type() == ContentType::avro);
  schema::register_avro_output(out, std::nullopt);
  REQUIRE(out.unregistered_avro().empty());
  return out.value();
}

Message input(std::string value) { return Message("orders", 0, 0, std::nullopt, std::move(value)); }

FailureReason reason_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const KernelError& error) {
    return error.reason();
  }
  FAIL("no KernelError thrown");
  return FailureReason::processing_error;
}

std::string header(int id) { return "\x00\x00\x00\x00"s + static_cast<char>(id); }

}  // namespace

TEST_CASE("avro: a value written with Outgoing::avro() reads back with Message::avro()") {
  Standin standin;
  Installed installed(standin.url());
  const nlohmann::json order = {{"id", "o-1"}, {"qty", 3}};
  const auto value = encoded(order);
  CHECK(value == header(1) + "\x06o-1\x06"s);
  CHECK(input(value).avro() == order);
  CHECK(content_type_header(ContentType::avro) == "application/avro");
}

TEST_CASE("avro: the subject is <topic>-value, or the record's full name with the record strategy") {
  Standin standin;
  httplib::Client client(standin.url());
  {
    Installed installed(standin.url());
    encoded({{"id", "o-1"}, {"qty", 1}}, "sales");
    REQUIRE(client.Get("/subjects/sales-value/versions/latest")->status == 200);
  }
  Installed installed(standin.url(), SubjectStrategy::record);
  encoded({{"id", "o-1"}, {"qty", 1}}, "sales");
  REQUIRE(client.Get("/subjects/shop.Order/versions/latest")->status == 200);
}

TEST_CASE("avro: a value that does not fit the schema is schema_mismatch, naming the field") {
  Outgoing out;
  try {
    out.avro({{"id", 7}, {"qty", 1}}, order_schema);
    FAIL("no error");
  } catch (const PermanentError& error) {
    CHECK(error.reason() == FailureReason::schema_mismatch);
    CHECK(std::string(error.what()).find("$.id") != std::string::npos);
  }
}

TEST_CASE("avro: wrong magic byte, truncated, unknown id, another type's schema, corrupt bytes") {
  Standin standin;
  Installed installed(standin.url());
  const auto value = encoded({{"id", "o-1"}, {"qty", 3}});
  CHECK(reason_of([] { input(R"({"id":"o-1"})").avro(); }) == FailureReason::wrong_magic_byte);
  CHECK(reason_of([] { input("\x00\x00\x01"s).avro(); }) == FailureReason::truncated_payload);
  CHECK(reason_of([&] { input(value.substr(0, 8)).avro(); }) == FailureReason::truncated_payload);
  CHECK(reason_of([] { input(header(77) + "\x06o-1\x06"s).avro(); }) == FailureReason::schema_not_found);
  CHECK(reason_of([&] { input(header(1) + "\x01"s).avro(); }) == FailureReason::schema_mismatch);
  CHECK(reason_of([&] { input(value + "\x00"s).avro(); }) == FailureReason::schema_mismatch);
  httplib::Client client(standin.url());
  auto registered =
      client.Post("/subjects/pb-value/versions",
                  R"({"schemaType": "PROTOBUF", "schema": "syntax = \"proto3\"; message M { string a = 1; }"})",
                  "application/json");
  REQUIRE(registered);
  REQUIRE(registered->status == 200);
  const int pb_id = nlohmann::json::parse(registered->body)["id"].get<int>();
  CHECK(reason_of([&] { input(header(pb_id) + "\x06o-1\x06"s).avro(); }) == FailureReason::schema_mismatch);
}

TEST_CASE("avro: a registry that is down is a TransientError, schema_registry_unavailable") {
  Standin standin;
  Installed installed(standin.url());
  const auto value = encoded({{"id", "o-1"}, {"qty", 3}});
  schema::install_registry(nullptr);  // a fresh process: nothing compiled or cached yet
  Installed again(standin.url());
  httplib::Client client(standin.url());
  REQUIRE(client.Put("/_standin/outage", R"({"status": 503})", "application/json"));
  try {
    input(value).avro();
    FAIL("no error");
  } catch (const TransientError& error) {
    CHECK(error.reason() == FailureReason::schema_registry_unavailable);
  }
  REQUIRE(client.Put("/_standin/outage", R"({"status": 0})", "application/json"));
  CHECK(input(value).avro()["qty"] == 3);
}

}  // namespace schema_avro_test
