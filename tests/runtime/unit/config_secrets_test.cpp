// Secrets never appear in anything the configuration prints, nor in librdkafka's own
// conf dump and debug lines once they pass through mask_secrets().
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <librdkafka/rdkafka.h>

#include "config/settings.hpp"
#include "kernel/detail/rdkafka_client.hpp"
#include "kernel/detail/rdkafka_handles.hpp"

namespace config_secrets_test {

using namespace kernel;
namespace fs = std::filesystem;

namespace {

const std::string key_password = "KeyPass-7Q2W-secret";
const std::string sasl_password = "SaslPass-9Z8Y-secret";
const std::string admin_token = "AdminTok-3X4V-secret";

struct Material {
  std::string certificate, encrypted_key;
};

// A self-signed certificate with an encrypted key, made with the openssl CLI.
const Material& material() {
  static const Material made = [] {
    const auto dir = fs::temp_directory_path() / ("kernel-config-secrets-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const auto command = "cd '" + dir.string() +
                         "' && openssl req -x509 -newkey ec -pkeyopt "
                         "ec_paramgen_curve:prime256v1 -passout pass:" +
                         key_password +
                         " -keyout key.pem -out cert.pem -subj /CN=secret-test -days 2 "
                         ">/dev/null 2>&1";
    REQUIRE(std::system(command.c_str()) == 0);
    auto read = [&](const char* name) {
      std::stringstream text;
      text << std::ifstream(dir / name).rdbuf();
      return text.str();
    };
    Material m{read("cert.pem"), read("key.pem")};
    fs::remove_all(dir);
    return m;
  }();
  return made;
}

// Every secret value, and each line of the key's PEM body (a fragment is a leak too).
std::vector<std::string> secret_fragments() {
  std::vector<std::string> fragments{key_password, sasl_password, admin_token};
  std::istringstream key(material().encrypted_key);
  for (std::string line; std::getline(key, line);) {
    if (!line.starts_with("-----") && line.size() > 16) fragments.push_back(line);
  }
  return fragments;
}

void check_no_secret(const std::string& text, const char* where) {
  for (const auto& fragment : secret_fragments()) {
    CHECK_MESSAGE(text.find(fragment) == std::string::npos, where, ": ", fragment);
  }
}

Environment secret_environment() {
  return {{env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9093"},
          {env_var::KAFKA_CLIENT_CERT, material().certificate},
          {env_var::KAFKA_CLIENT_KEY, material().encrypted_key},
          {env_var::KAFKA_CLIENT_KEY_PASSWORD, key_password},
          {env_var::KAFKA_SASL_MECHANISM, "SCRAM-SHA-256"},
          {env_var::KAFKA_SASL_USERNAME, "svc-user"},
          {env_var::KAFKA_SASL_PASSWORD, sasl_password},
          {env_var::KERNEL_ADMIN_TOKEN, admin_token},
          {"KAFKA_PROPERTY_DEBUG", "conf,security"}};
}

const KernelDefaults secret_kernel{"secret-kernel", {"in"}, std::nullopt};

std::mutex log_mutex;
std::string log_text;

void collect_log(const rd_kafka_t*, int, const char* facility, const char* line) {
  const std::lock_guard lock(log_mutex);
  log_text += std::string(facility) + " " + line + "\n";
}

}  // namespace

TEST_CASE("config secrets: never printed by load, describe, warnings or errors") {
  const auto config = Config::load(secret_kernel, secret_environment(), RunMode::production, "/nonexistent/.env");
  CHECK(config.settings().security_protocol == SecurityProtocol::sasl_ssl);
  const auto description = config.describe();
  check_no_secret(description, "describe");
  CHECK(description.find("KAFKA_SASL_PASSWORD=***") != std::string::npos);
  CHECK(description.find("KERNEL_ADMIN_TOKEN=***") != std::string::npos);
  CHECK(description.find("KAFKA_CLIENT_KEY=***") != std::string::npos);
  for (const auto& warning : config.warnings()) check_no_secret(warning, "warning");

  // Problems name secrets without their values, including pass-through secrets.
  auto broken = secret_environment();
  broken[env_var::KAFKA_CLIENT_KEY_PASSWORD] = "Wrong-" + sasl_password;
  broken["KAFKA_PROPERTY_SSL_KEYSTORE_PASSWORD"] = admin_token;
  broken[env_var::KAFKA_SECURITY_PROTOCOL] = "bogus-" + admin_token;
  try {
    Config::load(secret_kernel, broken, RunMode::production, "/nonexistent/.env");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& error) {
    check_no_secret(error.what(), "ConfigError");
    CHECK(std::string(error.what()).find(env_var::KAFKA_CLIENT_KEY_PASSWORD) != std::string::npos);
  }
}

TEST_CASE("config secrets: librdkafka's conf dump and debug log are masked") {
  const auto config = Config::load(secret_kernel, secret_environment(), RunMode::production, "/nonexistent/.env");
  detail::ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& property : config.producer_properties()) {
    if (property.name == "bootstrap.servers") continue;  // nothing to connect to
    REQUIRE(rd_kafka_conf_set(conf.get(), property.name.c_str(), property.value.c_str(), error, sizeof error) ==
            RD_KAFKA_CONF_OK);
  }
  std::size_t count = 0;
  const char** dump = rd_kafka_conf_dump(conf.get(), &count);
  std::string dumped, masked;
  for (std::size_t i = 0; i + 1 < count; i += 2) {
    const auto line = std::string(dump[i]) + "=" + dump[i + 1] + "\n";
    dumped += line;
    masked += mask_secrets(line);
  }
  rd_kafka_conf_dump_free(dump, count);
  // The raw dump really does hold the secrets, so the masking is what keeps them out.
  CHECK(dumped.find(sasl_password) != std::string::npos);
  check_no_secret(masked, "masked conf dump");
  check_no_secret(config.redact(dumped), "redacted conf dump");

  log_text.clear();
  rd_kafka_conf_set_log_cb(conf.get(), collect_log);
  auto producer = detail::create_client(detail::ClientType::producer, conf);
  REQUIRE_MESSAGE(producer, producer.message);
  producer.handle.reset();
  const std::lock_guard lock(log_mutex);
  CHECK(log_text.find("ssl.key.pem") != std::string::npos);
  check_no_secret(mask_secrets(log_text), "masked debug log");
}

TEST_CASE("config secrets: mask_secrets formats") {
  CHECK(mask_secrets("sasl.password=abc def") == "sasl.password=***");
  CHECK(mask_secrets("  sasl.password = abc\nsasl.username = bob") == "  sasl.password = ***\nsasl.username = bob");
  CHECK(mask_secrets(R"({"sasl.password": "abc", "x": 1})") == R"({"sasl.password": ***, "x": 1})");
  CHECK(mask_secrets("ssl.key.password=pw") == "ssl.key.password=***");
  CHECK(mask_secrets("ssl_key=abc") == "ssl_key=***");
  CHECK(mask_secrets("ssl.key.pem=-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"
                     "next=1") == "ssl.key.pem=***\nnext=1");
  CHECK(mask_secrets("ssl.certificate.pem = x") == "ssl.certificate.pem = ***");
  CHECK(mask_secrets("got -----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY----- ok") == "got *** ok");
  CHECK(mask_secrets("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA") == "***");
  CHECK(mask_secrets("KERNEL_ADMIN_TOKEN=t0k") == "KERNEL_ADMIN_TOKEN=***");
  // Not secrets: left alone.
  CHECK(mask_secrets("sasl.username=bob") == "sasl.username=bob");
  CHECK(mask_secrets("my.sasl.password.hint is here") == "my.sasl.password.hint is here");
  CHECK(mask_secrets("-----BEGIN CERTIFICATE-----") == "-----BEGIN CERTIFICATE-----");
}

}  // namespace config_secrets_test
