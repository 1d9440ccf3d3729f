// The schema registry client over HTTPS: a registry whose certificate the given CA signed is
// reached; one the CA did not sign is refused before anything is asked (unavailable, as an
// unreachable registry is: the certificate may be fixed without touching the messages).
#include <doctest/doctest.h>

#include <httplib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "schema/schema_registry.hpp"

namespace schema_registry_tls_test {

using namespace kernel::schema;
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A self-signed certificate for 127.0.0.1 and its key, made with openssl in a fresh folder.
fs::path make_certificate(const std::string& name) {
  const auto folder = fs::temp_directory_path() / ("schema-tls-" + name + "-" + std::to_string(::getpid()));
  fs::create_directories(folder);
  const std::string command = "cd '" + folder.string() +
                              "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                              "-keyout key.pem -out cert.pem -days 1 -subj /CN=127.0.0.1 "
                              "-addext subjectAltName=IP:127.0.0.1 2>/dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
  return folder;
}

struct TlsRegistry {
  explicit TlsRegistry(const fs::path& folder) : server((folder / "cert.pem").c_str(), (folder / "key.pem").c_str()) {
    server.Get("/schemas/ids/1", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"schema": "\"string\""})", "application/json");
    });
    port = server.bind_to_any_port("127.0.0.1");
    serving = std::thread([this] { server.listen_after_bind(); });
  }
  ~TlsRegistry() {
    server.stop();
    serving.join();
  }
  httplib::SSLServer server;
  int port = 0;
  std::thread serving;
};

}  // namespace

TEST_CASE("schema registry over https: the CA given verifies the registry; another CA's is refused") {
  const auto registry_folder = make_certificate("registry");
  const auto other_folder = make_certificate("other");
  TlsRegistry tls(registry_folder);
  RegistryOptions options;
  options.url = "https://127.0.0.1:" + std::to_string(tls.port);
  options.timeout = std::chrono::milliseconds(2000);
  {
    options.ca_pem = read_text(registry_folder / "cert.pem");
    SchemaRegistry registry(options);
    auto schema = registry.schema_by_id(1);
    REQUIRE_MESSAGE(schema, (schema ? "" : schema.error().message));
    CHECK((*schema)->text == "\"string\"");
  }
  {
    options.ca_pem = read_text(other_folder / "cert.pem");
    SchemaRegistry registry(options);
    auto schema = registry.schema_by_id(1);
    REQUIRE_FALSE(schema);
    CHECK(schema.error().kind == RegistryErrorKind::unavailable);
  }
  options.ca_pem = "not a certificate";
  CHECK_THROWS_AS(SchemaRegistry{options}, std::invalid_argument);
  fs::remove_all(registry_folder);
  fs::remove_all(other_folder);
}

}  // namespace schema_registry_tls_test
