// bench-schema-codecs: what reading and writing a value through the schema registry costs per
// message, against JSON of the same content. Protobuf: Message::protobuf<T>() (wire format,
// the per-thread memo of checked schemas, Protobuf's parse) and Outgoing::protobuf() with its
// schema id written as produce() does; JSON: Message::json() and Outgoing::json(). The registry
// is an in-process HTTP server asked once per schema; the loops then never reach it.
//   bench-schema-codecs [messages]   (default 200000)
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <kernel/kernel.hpp>
#include <nlohmann/json.hpp>

#include "kernel_test.pb.h"
#include "schema/protobuf_codec.hpp"
#include "schema/registry_instance.hpp"

namespace {

template <class F>
double ns_per_call(long count, F&& call) {
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) call(i);
  const std::chrono::duration<double, std::nano> spent = std::chrono::steady_clock::now() - start;
  return spent.count() / static_cast<double>(count);
}

kernel_test::Order an_order() {
  kernel_test::Order order;
  order.set_id("order-000123");
  order.set_amount_cents(123456);
  for (const char* item : {"pen", "ink", "paper"}) order.add_items(item);
  return order;
}

}  // namespace

int main(int argc, char** argv) {
  const long count = argc > 1 ? std::atol(argv[1]) : 200000;
  httplib::Server registry;
  const std::string schema = kernel_test::Order::descriptor()->file()->DebugString();
  registry.Get("/schemas/ids/1", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(nlohmann::json{{"schema", schema}, {"schemaType", "PROTOBUF"}}.dump(), "application/json");
  });
  registry.Post(R"(/subjects/.*/versions)", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"id": 1})", "application/json");
  });
  const int port = registry.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { registry.listen_after_bind(); });

  kernel::schema::RegistryOptions options;
  options.url = "http://127.0.0.1:" + std::to_string(port);
  auto instance = std::make_shared<kernel::schema::RegistryInstance>();
  instance->registry = std::make_shared<kernel::schema::SchemaRegistry>(options);
  kernel::schema::install_registry(instance);

  const auto order = an_order();
  const nlohmann::json document = {
      {"id", order.id()}, {"amount_cents", order.amount_cents()}, {"items", {"pen", "ink", "paper"}}};
  kernel::Outgoing framed;
  framed.protobuf(order);
  kernel::schema::register_protobuf_output(framed, std::string("orders"));
  const kernel::Message protobuf_input("orders", 0, 0, std::nullopt, framed.value());
  const kernel::Message json_input("orders", 0, 0, std::nullopt, document.dump());

  long sink = 0;  // keeps the results alive
  const double decode_protobuf =
      ns_per_call(count, [&](long) { sink += protobuf_input.protobuf<kernel_test::Order>().amount_cents(); });
  const double decode_json = ns_per_call(count, [&](long) { sink += json_input.json()["amount_cents"].get<long>(); });
  const double encode_protobuf = ns_per_call(count, [&](long) {
    kernel::Outgoing out;
    out.protobuf(order);
    kernel::schema::register_protobuf_output(out, std::string("orders"));
    sink += static_cast<long>(out.value().size());
  });
  const double encode_json = ns_per_call(count, [&](long) {
    kernel::Outgoing out;
    out.json(document);
    sink += static_cast<long>(out.value().size());
  });

  std::printf("values: protobuf %zu bytes (wire format), json %zu bytes; %ld messages each\n", framed.value().size(),
              document.dump().size(), count);
  std::printf("%-8s %14s %14s\n", "", "protobuf ns", "json ns");
  std::printf("%-8s %14.0f %14.0f\n", "decode", decode_protobuf, decode_json);
  std::printf("%-8s %14.0f %14.0f\n", "encode", encode_protobuf, encode_json);
  std::printf("registry requests: %zu (checksum %ld)\n", instance->registry->requests_sent(), sink % 10);
  kernel::schema::install_registry(nullptr);
  registry.stop();
  serving.join();
  return 0;
}
