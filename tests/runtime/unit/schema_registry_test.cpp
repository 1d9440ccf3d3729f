// The schema registry client against the stand-in: schemas by id cached with a bound,
// registration cached per subject, basic auth, and each failure sorted (404 permanent, 5xx
// and a refused connection transient, an oversize or malformed answer refused).
#include <doctest/doctest.h>

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "schema/schema_registry.hpp"
#include "schema_registry_standin.hpp"

namespace schema_registry_test {

using namespace kernel::schema;
using schema_registry_standin::Standin;

namespace {

const std::string proto_text = "syntax = \"proto3\";\npackage t;\nmessage A { string x = 1; }\n";

std::string avro_record(const std::string& name) {
  return R"({"type":"record","name":")" + name + R"(","fields":[{"name":"a","type":"int"}]})";
}

RegistryOptions options_for(const std::string& url) {
  RegistryOptions options;
  options.url = url;
  options.timeout = std::chrono::milliseconds(2000);
  return options;
}

// A port nothing listens on: bound, read, closed.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

void set_outage(const std::string& url, int status) {
  httplib::Client client(url);
  auto answer = client.Put("/_standin/outage", nlohmann::json{{"status", status}}.dump(), "application/json");
  REQUIRE(answer);
  REQUIRE(answer->status == 200);
}

}  // namespace

TEST_CASE("schema registry: a registered schema is found by id, with its type, and cached") {
  Standin standin;
  SchemaRegistry registry(options_for(standin.url()));
  auto id = registry.register_schema("orders-value", SchemaType::protobuf, proto_text);
  REQUIRE(id);
  auto schema = registry.schema_by_id(*id);
  REQUIRE(schema);
  CHECK((*schema)->type == SchemaType::protobuf);
  CHECK((*schema)->text == proto_text);
  const auto sent = registry.requests_sent();
  CHECK(registry.schema_by_id(*id));
  CHECK(registry.register_schema("orders-value", SchemaType::protobuf, proto_text));
  CHECK(registry.requests_sent() == sent);
}

TEST_CASE("schema registry: the cache by id keeps at most its capacity, least recently used out first") {
  Standin standin;
  auto options = options_for(standin.url());
  options.cache_capacity = 2;
  SchemaRegistry registry(options);
  std::int32_t ids[3];
  for (int i = 0; i < 3; ++i) {
    auto id = registry.register_schema("s" + std::to_string(i), SchemaType::avro, avro_record("R" + std::to_string(i)));
    REQUIRE(id);
    ids[i] = *id;
  }
  REQUIRE(registry.schema_by_id(ids[0]));
  REQUIRE(registry.schema_by_id(ids[1]));
  REQUIRE(registry.schema_by_id(ids[0]));  // ids[1] is now the least recently used
  REQUIRE(registry.schema_by_id(ids[2]));
  CHECK(registry.cached_schemas() == 2);
  const auto sent = registry.requests_sent();
  CHECK(registry.schema_by_id(ids[0]));
  CHECK(registry.requests_sent() == sent);
  CHECK(registry.schema_by_id(ids[1]));
  CHECK(registry.requests_sent() == sent + 1);
}

TEST_CASE("schema registry: an unknown id is not_found, permanent") {
  Standin standin;
  SchemaRegistry registry(options_for(standin.url()));
  auto schema = registry.schema_by_id(4242);
  REQUIRE_FALSE(schema);
  CHECK(schema.error().kind == RegistryErrorKind::not_found);
  CHECK_FALSE(schema.error().transient());
  CHECK(schema.error().message.find("4242") != std::string::npos);
}

TEST_CASE("schema registry: an incompatible schema is refused with incompatible") {
  Standin standin;
  SchemaRegistry registry(options_for(standin.url()));
  REQUIRE(registry.register_schema("s", SchemaType::avro, avro_record("R")));
  auto changed = registry.register_schema("s", SchemaType::avro,
                                          R"({"type":"record","name":"R","fields":[{"name":"a","type":"string"}]})");
  REQUIRE_FALSE(changed);
  CHECK(changed.error().kind == RegistryErrorKind::incompatible);
}

TEST_CASE("schema registry: lookup finds a registered schema and refuses an unregistered one") {
  Standin standin;
  SchemaRegistry registry(options_for(standin.url()));
  auto id = registry.register_schema("s", SchemaType::protobuf, proto_text);
  REQUIRE(id);
  SchemaRegistry other(options_for(standin.url()));
  auto found = other.lookup_schema("s", SchemaType::protobuf, proto_text);
  REQUIRE(found);
  CHECK(*found == *id);
  auto missing = other.lookup_schema("s", SchemaType::avro, avro_record("Other"));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == RegistryErrorKind::not_found);
}

TEST_CASE("schema registry: basic auth is sent; wrong credentials are refused, permanent") {
  Standin standin({"--user", "kernel", "--password", "s3cret"});
  auto options = options_for(standin.url());
  options.user = "kernel";
  options.password = "s3cret";
  SchemaRegistry registry(options);
  CHECK(registry.register_schema("s", SchemaType::avro, avro_record("R")));
  options.password = "wrong";
  SchemaRegistry refused(options);
  auto answer = refused.schema_by_id(1);
  REQUIRE_FALSE(answer);
  CHECK(answer.error().kind == RegistryErrorKind::refused);
  CHECK(answer.error().message.find("wrong") == std::string::npos);
}

TEST_CASE("schema registry: a 5xx answer is unavailable, transient, and a later call succeeds") {
  Standin standin;
  SchemaRegistry registry(options_for(standin.url()));
  auto id = registry.register_schema("s", SchemaType::avro, avro_record("R"));
  REQUIRE(id);
  set_outage(standin.url(), 503);
  auto down = registry.schema_by_id(*id);
  REQUIRE_FALSE(down);
  CHECK(down.error().kind == RegistryErrorKind::unavailable);
  CHECK(down.error().transient());
  set_outage(standin.url(), 0);
  CHECK(registry.schema_by_id(*id));
}

TEST_CASE("schema registry: a refused connection is unavailable, transient") {
  SchemaRegistry registry(options_for("http://127.0.0.1:" + std::to_string(closed_port())));
  auto answer = registry.schema_by_id(1);
  REQUIRE_FALSE(answer);
  CHECK(answer.error().kind == RegistryErrorKind::unavailable);
}

TEST_CASE("schema registry: an answer larger than the bound is refused as invalid_answer") {
  Standin standin;
  auto options = options_for(standin.url());
  SchemaRegistry writer(options);
  auto id = writer.register_schema(
      "s", SchemaType::avro, R"({"type":"record","name":"R","doc":")" + std::string(4000, 'x') + R"(","fields":[]})");
  REQUIRE(id);
  options.max_answer_bytes = 1000;
  SchemaRegistry reader(options);
  auto answer = reader.schema_by_id(*id);
  REQUIRE_FALSE(answer);
  CHECK(answer.error().kind == RegistryErrorKind::invalid_answer);
  CHECK(answer.error().message.find("larger than 1000 bytes") != std::string::npos);
}

TEST_CASE("schema registry: an answer that is not the JSON expected is invalid_answer") {
  httplib::Server server;
  server.Get("/schemas/ids/1",
             [](const httplib::Request&, httplib::Response& res) { res.set_content("<html>", "text/html"); });
  server.Get("/schemas/ids/2", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"schema": "x", "schemaType": "COBOL"})", "application/json");
  });
  server.Get("/schemas/ids/3", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"schema": 7})", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  // Bound and listening already: the client's connection waits in the backlog if need be.
  std::thread serving([&] { server.listen_after_bind(); });
  {
    // In a scope: the client's kept-alive connection closes before the server stops, which
    // would otherwise wait for it to time out.
    SchemaRegistry registry(options_for("http://127.0.0.1:" + std::to_string(port)));
    for (int id : {1, 2, 3}) {
      auto answer = registry.schema_by_id(id);
      REQUIRE_FALSE(answer);
      CHECK(answer.error().kind == RegistryErrorKind::invalid_answer);
    }
  }
  server.stop();
  serving.join();
}

TEST_CASE("schema registry: a URL that is not http(s)://host[:port][/path] is refused at construction") {
  for (const char* url : {"", "ftp://x", "http://", "http://host:99999", "registry:8081", "http://a b"}) {
    CAPTURE(url);
    CHECK_THROWS_AS(SchemaRegistry(options_for(url)), std::invalid_argument);
  }
}

TEST_CASE("schema registry: a subject is percent-encoded in the path") {
  CHECK(encode_path_segment("orders-value") == "orders-value");
  CHECK(encode_path_segment("a/b c") == "a%2Fb%20c");
}

}  // namespace schema_registry_test
