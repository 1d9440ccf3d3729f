// Protobuf values without a message-index list, as @kafkajs/confluent-schema-registry 4.1.0
// writes them: read as the schema's first message (docs/interop.md#schema-registry), while a
// list that names an existing message keeps the strict reading.
#include <doctest/doctest.h>

#include <httplib.h>

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "kernel/errors.hpp"
#include "kernel/message.hpp"
#include "kernel_test.pb.h"
#include "schema/protobuf_codec.hpp"
#include "schema/registry_instance.hpp"
#include "schema_registry_standin.hpp"

namespace schema_protobuf_indexless_test {

using namespace kernel;
using namespace std::string_literals;
using schema_registry_standin::Standin;

namespace {

struct Installed {
  explicit Installed(const std::string& url) {
    schema::RegistryOptions options;
    options.url = url;
    options.timeout = std::chrono::milliseconds(2000);
    auto instance = std::make_shared<schema::RegistryInstance>();
    instance->registry = std::make_shared<schema::SchemaRegistry>(options);
    schema::install_registry(instance);
  }
  ~Installed() { schema::install_registry(nullptr); }
};

// Registers tests/data/kernel_test.proto as kafkajs does (the .proto text); returns its id.
int register_proto(const std::string& url) {
  std::ifstream file(std::string(KERNEL_TEST_DATA_DIR) + "/kernel_test.proto");
  std::stringstream text;
  text << file.rdbuf();
  httplib::Client client(url);
  const nlohmann::json body = {{"schemaType", "PROTOBUF"}, {"schema", text.str()}};
  auto answer = client.Post("/subjects/pb.orders-value/versions", body.dump(), "application/json");
  REQUIRE(answer);
  REQUIRE(answer->status == 200);
  return nlohmann::json::parse(answer->body)["id"].get<int>();
}

Message input(std::string value) { return Message("pb.orders", 0, 0, std::nullopt, std::move(value)); }

}  // namespace

TEST_CASE("protobuf: kafkajs's value without a message index reads as the schema's first message, counted") {
  Standin standin;
  Installed installed(standin.url());
  REQUIRE(register_proto(standin.url()) == 1);
  const auto before = schema::indexless_protobuf_values();
  // What @kafkajs/confluent-schema-registry 4.1.0 wrote for {id: "o-1", amountCents: 2} (docs/interop.md).
  const auto kafkajs = "\x00\x00\x00\x00\x01\x0a\x03o-1\x10\x02"s;
  for (int round = 0; round < 2; ++round) {  // the second from the per-thread memo
    const auto order = input(kafkajs).protobuf<kernel_test::Order>();
    CHECK(order.id() == "o-1");
    CHECK(order.amount_cents() == 2);
  }
  CHECK(schema::indexless_protobuf_values() == before + 2);
  // Confluent's own framing of the same order still reads, and is not counted.
  CHECK(input("\x00\x00\x00\x00\x01\x00\x0a\x03o-1\x10\x02"s).protobuf<kernel_test::Order>().id() == "o-1");
  CHECK(schema::indexless_protobuf_values() == before + 2);
}

TEST_CASE("protobuf: without an index, bytes that are not the first message keep the strict error") {
  Standin standin;
  Installed installed(standin.url());
  register_proto(standin.url());
  // An index list naming the second message (Receipt) read as an Order: another message.
  auto reason = [](const std::string& value) {
    try {
      input(value).protobuf<kernel_test::Order>();
    } catch (const KernelError& error) {
      return error.reason();
    }
    return FailureReason::processing_error;
  };
  CHECK(reason("\x00\x00\x00\x00\x01\x02\x02\x0a\x03o-1"s) == FailureReason::schema_mismatch);
  // A list that does not parse, then bytes that are no Order: as before.
  CHECK(reason("\x00\x00\x00\x00\x01\x04\x00"s) == FailureReason::truncated_payload);
  CHECK(reason("\x00\x00\x00\x00\x01"s) == FailureReason::truncated_payload);
}

}  // namespace schema_protobuf_indexless_test
