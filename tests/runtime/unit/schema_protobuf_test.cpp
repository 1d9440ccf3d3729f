// Protobuf through the schema registry (the stand-in): Outgoing::protobuf() and
// Message::protobuf<T>() round trip, and each way a value can be wrong gets its own reason.
#include <doctest/doctest.h>

#include <google/protobuf/descriptor.pb.h>
#include <httplib.h>

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base64.hpp"
#include "core/context_access.hpp"
#include "kernel/context.hpp"
#include "kernel/errors.hpp"
#include "kernel/message.hpp"
#include "kernel/outcome.hpp"
#include "kernel/outgoing.hpp"
#include "kernel_test.pb.h"
#include "schema/protobuf_codec.hpp"
#include "schema/protobuf_schema.hpp"
#include "schema/registry_instance.hpp"
#include "schema_registry_standin.hpp"

namespace schema_protobuf_test {

using namespace kernel;
using namespace std::string_literals;
using schema_registry_standin::Standin;

namespace {

// Installs a registry on the stand-in for one test case, and none after it.
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

kernel_test::Order an_order() {
  kernel_test::Order order;
  order.set_id("o-1");
  order.set_amount_cents(1250);
  order.add_items("pen");
  order.add_items("ink");
  return order;
}

std::string encoded(const google::protobuf::Message& message, const std::string& topic = "orders") {
  Outgoing out;
  out.topic(topic).protobuf(message);
  schema::register_protobuf_output(out, std::nullopt);
  REQUIRE(out.unregistered_protobuf() == nullptr);
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

}  // namespace

TEST_CASE("protobuf: a message written with Outgoing::protobuf() reads back with Message::protobuf<T>()") {
  Standin standin;
  Installed installed(standin.url());
  const auto value = encoded(an_order());
  CHECK(value.substr(0, 5) == "\x00\x00\x00\x00\x01"s);
  CHECK(value[5] == '\0');  // the first message's index
  const auto order = input(value).protobuf<kernel_test::Order>();
  CHECK(order.id() == "o-1");
  CHECK(order.amount_cents() == 1250);
  CHECK(order.items_size() == 2);
}

TEST_CASE("protobuf: the output's content-type is application/x-protobuf") {
  Outgoing out;
  out.protobuf(an_order());
  CHECK(out.content_type() == ContentType::protobuf);
  CHECK(content_type_header(out.content_type()) == "application/x-protobuf");
}

TEST_CASE("protobuf: a nested message and a second top-level one carry their message index") {
  Standin standin;
  Installed installed(standin.url());
  kernel_test::Order::Line line;
  line.set_sku("sku-9");
  const auto nested = encoded(line);
  CHECK(nested.substr(5, 3) == "\x04\x00\x00"s);  // [0, 0]
  CHECK(input(nested).protobuf<kernel_test::Order::Line>().sku() == "sku-9");
  kernel_test::Receipt receipt;
  receipt.set_order_id("o-2");
  const auto second = encoded(receipt, "receipts");
  CHECK(second.substr(5, 2) == "\x02\x02"s);  // [1]
  CHECK(input(second).protobuf<kernel_test::Receipt>().order_id() == "o-2");
}

TEST_CASE("protobuf: the subject is <topic>-value, or the message's full name with the record strategy") {
  Standin standin;
  {
    Installed installed(standin.url());
    encoded(an_order(), "orders.out");
  }
  {
    Installed installed(standin.url(), SubjectStrategy::record);
    encoded(an_order(), "orders.out");
  }
  httplib::Client client(standin.url());
  auto subjects = client.Get("/subjects");
  REQUIRE(subjects);
  CHECK(nlohmann::json::parse(subjects->body) == nlohmann::json{"kernel_test.Order", "orders.out-value"});
}

TEST_CASE("protobuf: a value not starting with 0 is wrong_magic_byte") {
  Standin standin;
  Installed installed(standin.url());
  CHECK(reason_of([] { input(R"({"id":"o-1"})").protobuf<kernel_test::Order>(); }) == FailureReason::wrong_magic_byte);
  CHECK(reason_of([] { input("").protobuf<kernel_test::Order>(); }) == FailureReason::wrong_magic_byte);
}

TEST_CASE("protobuf: a value ending in the header or the message index is truncated_payload") {
  Standin standin;
  Installed installed(standin.url());
  CHECK(reason_of([] { input("\x00\x00\x01"s).protobuf<kernel_test::Order>(); }) == FailureReason::truncated_payload);
  CHECK(reason_of([] { input("\x00\x00\x00\x00\x01"s).protobuf<kernel_test::Order>(); }) ==
        FailureReason::truncated_payload);
  CHECK(reason_of([] { input("\x00\x00\x00\x00\x01\x04\x00"s).protobuf<kernel_test::Order>(); }) ==
        FailureReason::truncated_payload);
}

TEST_CASE("protobuf: an id the registry does not know is schema_not_found") {
  Standin standin;
  Installed installed(standin.url());
  CHECK(reason_of([] { input("\x00\x00\x00\x03\x09\x00"s).protobuf<kernel_test::Order>(); }) ==
        FailureReason::schema_not_found);
}

TEST_CASE("protobuf: a schema naming another message, or of another type, is schema_mismatch") {
  Standin standin;
  Installed installed(standin.url());
  kernel_test::Receipt receipt;
  const auto value = encoded(receipt);
  CHECK(reason_of([&] { input(value).protobuf<kernel_test::Order>(); }) == FailureReason::schema_mismatch);
  // An Avro schema's id in front of Protobuf bytes.
  httplib::Client client(standin.url());
  auto registered =
      client.Post("/subjects/avro-value/versions", R"({"schema": "{\"type\": \"string\"}"})", "application/json");
  REQUIRE(registered);
  REQUIRE(registered->status == 200);
  std::string avro_value = "\x00\x00\x00\x00"s;
  avro_value += static_cast<char>(nlohmann::json::parse(registered->body)["id"].get<int>());
  avro_value += '\0';
  CHECK(reason_of([&] { input(avro_value).protobuf<kernel_test::Order>(); }) == FailureReason::schema_mismatch);
}

TEST_CASE("protobuf: bytes that do not parse as the type are deserialization_error") {
  Standin standin;
  Installed installed(standin.url());
  auto value = encoded(an_order());
  value += "\xff\xff\xff"s;
  CHECK(reason_of([&] { input(value).protobuf<kernel_test::Order>(); }) == FailureReason::deserialization_error);
}

TEST_CASE("protobuf: a registry that is down is a TransientError, schema_registry_unavailable; then it reads") {
  Standin standin;
  Installed installed(standin.url());
  const auto value = encoded(an_order());
  schema::install_registry(nullptr);  // a fresh process: nothing checked or cached yet
  Installed again(standin.url());
  httplib::Client client(standin.url());
  REQUIRE(client.Put("/_standin/outage", R"({"status": 503})", "application/json"));
  try {
    input(value).protobuf<kernel_test::Order>();
    FAIL("no error");
  } catch (const TransientError& error) {
    CHECK(error.reason() == FailureReason::schema_registry_unavailable);
  }
  REQUIRE(client.Put("/_standin/outage", R"({"status": 0})", "application/json"));
  CHECK(input(value).protobuf<kernel_test::Order>().id() == "o-1");
}

TEST_CASE(
    "protobuf: an output whose schema the registry cannot take fails the attempt, even when the handler catches it") {
  Standin standin;
  Installed installed(standin.url());
  httplib::Client client(standin.url());
  REQUIRE(client.Put("/_standin/outage", R"({"status": 503})", "application/json"));
  Context context("k", std::string("orders"), nullptr);
  try {
    context.produce(Outgoing{}.protobuf(an_order()));
  } catch (const std::exception&) {
    // A handler that logs and carries on: its input must not be committed without the output.
  }
  const auto& refused = detail::ContextAccess::produce_refusal(context);
  CHECK(refused.transient);
  CHECK(refused.reason == FailureReason::schema_registry_unavailable);
  CHECK(refused.outcome().kind == Outcome::Kind::transient);
  CHECK(context.produced().empty());
}

TEST_CASE("protobuf: without a registry, decoding and encoding are fatal") {
  schema::install_registry(nullptr);
  CHECK_THROWS_AS(input("\x00\x00\x00\x00\x01\x00"s).protobuf<kernel_test::Order>(), FatalError);
  Outgoing out;
  out.protobuf(an_order());
  CHECK_THROWS_AS(schema::register_protobuf_output(out, "orders"s), FatalError);
}

TEST_CASE("protobuf schema: the message at an index, from .proto text or a base64 descriptor") {
  google::protobuf::FileDescriptorProto file;
  kernel_test::Order::descriptor()->file()->CopyTo(&file);
  const schema::Schema from_descriptor{
      schema::SchemaType::protobuf, detail::base64_encode(file.SerializeAsString()), {}};
  const schema::Schema from_text{
      schema::SchemaType::protobuf, kernel_test::Order::descriptor()->file()->DebugString(), {}};
  for (const auto* schema : {&from_descriptor, &from_text}) {
    std::string name, why;
    schema::MessageIndex index;
    index.path[0] = 1;
    index.depth = 1;
    REQUIRE(schema::protobuf_message_name(*schema, index, name, why));
    CHECK(name == "kernel_test.Receipt");
    index.path[0] = 0;
    index.path[1] = 0;
    index.depth = 2;
    REQUIRE(schema::protobuf_message_name(*schema, index, name, why));
    CHECK(name == "kernel_test.Order.Line");
    index.path[0] = 2;
    index.depth = 1;
    CHECK_FALSE(schema::protobuf_message_name(*schema, index, name, why));
  }
}

}  // namespace schema_protobuf_test
