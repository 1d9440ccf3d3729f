// TLS material: PEM and base64 accepted, bad material refused without echoing it, and a
// real mutual-TLS handshake whose client chain includes an intermediate CA.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <openssl/evp.h>

#include <librdkafka/rdkafka.h>

#include "config/settings.hpp"
#include "kernel/detail/rdkafka_client.hpp"
#include "kernel/detail/rdkafka_handles.hpp"

#include "config_problems.hpp"

namespace config_tls_test {

using namespace kernel;
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// A root CA, an intermediate CA, a client certificate issued by the intermediate and a
// server certificate for 127.0.0.1 issued by the root; made once per test run.
struct Pki {
  fs::path dir;

  Pki() {
    dir = fs::temp_directory_path() / ("kernel-config-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    write("ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
    write("client.ext", "extendedKeyUsage=clientAuth\n");
    write("server.ext", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    run("openssl req -x509 " + key +
        "-keyout ca.key -out ca.pem -subj /CN=test-root -days 2 "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
    issue("intermediate", "ca", "ca.ext");
    issue("client", "intermediate", "client.ext");
    issue("server", "ca", "server.ext");
    run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out other.key");
    run("openssl pkey -in client.key -aes256 -passout pass:key-pass-7f3a -out client-enc.key");
  }
  ~Pki() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  void write(const std::string& name, const std::string& text) const { std::ofstream(dir / name) << text; }
  void run(const std::string& command) const {
    const auto full = "cd '" + dir.string() + "' && " + command + " >/dev/null 2>&1";
    REQUIRE_MESSAGE(std::system(full.c_str()) == 0, command);
  }
  void issue(const std::string& name, const std::string& issuer, const std::string& ext) const {
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name + ".key -out " + name +
        ".csr -subj /CN=kernel-" + name);
    run("openssl x509 -req -in " + name + ".csr -CA " + issuer + ".pem -CAkey " + issuer +
        ".key -CAcreateserial -days 2 -extfile " + ext + " -out " + name + ".pem");
  }
  std::string text(const std::string& name) const { return read_text(dir / name); }
  std::string chain() const { return text("client.pem") + text("intermediate.pem"); }
};

const Pki& pki() {
  static const Pki instance;
  return instance;
}

const KernelDefaults tls_kernel{"tls-kernel", {"in"}, std::nullopt};

Config load(Environment env) {
  env.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "127.0.0.1:9");
  return Config::load(tls_kernel, env, RunMode::production, "/nonexistent-dir/.env");
}

std::vector<std::string> problems_of(Environment env) {
  return config_problems::problems_from([&] { load(std::move(env)); });
}

int free_loopback_port() {
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

// `openssl s_server` requiring a client certificate, verified against the root alone.
class TlsServer {
 public:
  TlsServer(const Pki& pki, int port) : log_(pki.dir / ("s_server-" + std::to_string(port))) {
    int input[2];
    REQUIRE(::pipe(input) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // Its stdin stays open (it would end the session on EOF); output goes to a file.
      ::dup2(input[0], 0);
      const int out = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(out, 1);
      ::dup2(out, 2);
      const auto accept = "127.0.0.1:" + std::to_string(port);
      const auto dir = pki.dir.string();
      ::execlp("openssl", "openssl", "s_server", "-accept", accept.c_str(), "-Verify", "2", "-verify_return_error",
               "-CAfile", (dir + "/ca.pem").c_str(), "-cert", (dir + "/server.pem").c_str(), "-key",
               (dir + "/server.key").c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(input[0]);
    stdin_ = input[1];
  }
  ~TlsServer() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    ::close(stdin_);
  }

  /// Waits until the output contains `text`, or the deadline passes.
  bool wait_for(std::string_view text, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (output().find(text) != std::string::npos) return true;
      // Checking a file needs a cadence; the condition, not this pause, is what we wait on.
      ::usleep(20'000);
    }
    return false;
  }
  std::string output() const { return read_text(log_); }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  int stdin_ = -1;
};

}  // namespace

TEST_CASE("config tls: raw PEM and base64 of PEM are accepted") {
  const auto& p = pki();
  const auto raw = load({{env_var::KAFKA_CA_CERT, p.text("ca.pem")},
                         {env_var::KAFKA_CLIENT_CERT, p.chain()},
                         {env_var::KAFKA_CLIENT_KEY, p.text("client.key")}});
  const auto encoded = load({{env_var::KAFKA_CA_CERT, base64(p.text("ca.pem"))},
                             {env_var::KAFKA_CLIENT_CERT, base64(p.chain())},
                             {env_var::KAFKA_CLIENT_KEY, base64(p.text("client.key"))}});
  CHECK(raw.settings().security_protocol == SecurityProtocol::ssl);
  CHECK(raw.settings().ca_cert_pem == encoded.settings().ca_cert_pem);
  CHECK(raw.settings().client_cert_pem == encoded.settings().client_cert_pem);
  CHECK(raw.settings().client_key_pem == encoded.settings().client_key_pem);
  // The chain is handed over through an in-memory file, never ssl.certificate.pem.
  bool location = false;
  for (const auto& property : raw.producer_properties()) {
    CHECK(property.name != "ssl.certificate.pem");
    if (property.name == "ssl.certificate.location") {
      location = true;
      CHECK(property.value.starts_with("/proc/self/fd/"));
      CHECK(read_text(property.value) == raw.settings().client_cert_pem);
    }
  }
  CHECK(location);
  const auto text = raw.describe();
  CHECK(text.find("subject /CN=kernel-client, sha256 ") != std::string::npos);
  CHECK(text.find("/CN=kernel-intermediate") != std::string::npos);
  CHECK(text.find("BEGIN") == std::string::npos);
  CHECK(load({{env_var::KAFKA_CLIENT_CERT, p.chain()},
              {env_var::KAFKA_CLIENT_KEY, p.text("client-enc.key")},
              {env_var::KAFKA_CLIENT_KEY_PASSWORD, "key-pass-7f3a"}})
            .settings()
            .client_key_password == "key-pass-7f3a");
}

TEST_CASE("config tls: bad material is refused without showing it") {
  const auto& p = pki();
  SUBCASE("garbage key") {
    const auto problems =
        problems_of({{env_var::KAFKA_CLIENT_CERT, p.chain()}, {env_var::KAFKA_CLIENT_KEY, "hunter2-garbage"}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].starts_with("config error: KAFKA_CLIENT_KEY: not a PEM private key"));
    CHECK(problems[0].ends_with("(value hidden)"));
    CHECK(problems[0].find("hunter2") == std::string::npos);
  }
  SUBCASE("a PEM that is not a key") {
    const auto problems =
        problems_of({{env_var::KAFKA_CLIENT_CERT, p.chain()}, {env_var::KAFKA_CLIENT_KEY, p.text("ca.pem")}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == "config error: KAFKA_CLIENT_KEY: not a PEM private key (value hidden)");
  }
  SUBCASE("garbage certificate") {
    const auto problems = problems_of({{env_var::KAFKA_CA_CERT, "not-a-cert"}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].starts_with("config error: KAFKA_CA_CERT: not a PEM certificate"));
    CHECK(problems[0].find("not-a-cert") == std::string::npos);
  }
  SUBCASE("the key of another certificate") {
    const auto problems =
        problems_of({{env_var::KAFKA_CLIENT_CERT, p.chain()}, {env_var::KAFKA_CLIENT_KEY, p.text("other.key")}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].starts_with("config error: KAFKA_CLIENT_KEY: does not belong"));
  }
  SUBCASE("encrypted key without or with a wrong password") {
    CHECK(problems_of({{env_var::KAFKA_CLIENT_CERT, p.chain()}, {env_var::KAFKA_CLIENT_KEY, p.text("client-enc.key")}})
              .at(0)
              .find("set KAFKA_CLIENT_KEY_PASSWORD") != std::string::npos);
    const auto wrong = problems_of({{env_var::KAFKA_CLIENT_CERT, p.chain()},
                                    {env_var::KAFKA_CLIENT_KEY, p.text("client-enc.key")},
                                    {env_var::KAFKA_CLIENT_KEY_PASSWORD, "wrong-pass-91"}});
    REQUIRE(wrong.size() == 1);
    CHECK(wrong[0] ==
          "config error: KAFKA_CLIENT_KEY_PASSWORD: does not decrypt KAFKA_CLIENT_KEY (value "
          "hidden)");
  }
  SUBCASE("certificate without key, and a protocol without TLS") {
    CHECK(problems_of({{env_var::KAFKA_CLIENT_CERT, p.chain()}}).at(0).find(env_var::KAFKA_CLIENT_KEY) !=
          std::string::npos);
    CHECK(problems_of({{env_var::KAFKA_CA_CERT, p.text("ca.pem")}, {env_var::KAFKA_SECURITY_PROTOCOL, "PLAINTEXT"}})
              .at(0)
              .starts_with("config error: KAFKA_SECURITY_PROTOCOL=\"PLAINTEXT\""));
  }
}

namespace {

// Points a producer built from `config` at a fresh s_server and returns the server once
// its output shows `expected` (or the deadline passed).
std::string handshake_output(Config config, std::string_view expected) {
  const int port = free_loopback_port();
  TlsServer server(pki(), port);
  REQUIRE_MESSAGE(server.wait_for("ACCEPT", std::chrono::seconds(5)), server.output());

  config.use_bootstrap_servers("127.0.0.1:" + std::to_string(port));
  detail::ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& property : config.producer_properties()) {
    REQUIRE(rd_kafka_conf_set(conf.get(), property.name.c_str(), property.value.c_str(), error, sizeof error) ==
            RD_KAFKA_CONF_OK);
  }
  // The Kafka protocol fails after the handshake; its log lines are not this test's concern.
  rd_kafka_conf_set_log_cb(conf.get(), [](const rd_kafka_t*, int, const char*, const char*) {});
  auto producer = detail::create_client(detail::ClientType::producer, conf);
  REQUIRE_MESSAGE(producer, producer.message);
  server.wait_for(expected, std::chrono::seconds(8));
  producer.handle.reset();
  return server.output();
}

}  // namespace

TEST_CASE("config tls: mutual TLS handshake sends the whole client chain") {
  const auto& p = pki();
  const auto output = handshake_output(load({{env_var::KAFKA_CA_CERT, base64(p.text("ca.pem"))},
                                             {env_var::KAFKA_CLIENT_CERT, p.chain()},
                                             {env_var::KAFKA_CLIENT_KEY, p.text("client.key")}}),
                                       "CIPHER is");
  // s_server prints the cipher once a handshake completes, having verified the client
  // certificate up to the root through the intermediate the client sent.
  CHECK_MESSAGE(output.find("CIPHER is") != std::string::npos, output);
  CHECK(output.find("depth=1 CN = kernel-intermediate") != std::string::npos);
  CHECK(output.find("CN = kernel-client") != std::string::npos);
  CHECK(output.find("verify error") == std::string::npos);
}

TEST_CASE("config tls: without the intermediate the server cannot verify the client") {
  // The control for the test above: the same setup with the leaf alone must fail.
  const auto& p = pki();
  const auto output = handshake_output(load({{env_var::KAFKA_CA_CERT, p.text("ca.pem")},
                                             {env_var::KAFKA_CLIENT_CERT, p.text("client.pem")},
                                             {env_var::KAFKA_CLIENT_KEY, p.text("client.key")}}),
                                       "verify error");
  CHECK_MESSAGE(output.find("verify error") != std::string::npos, output);
  CHECK(output.find("CIPHER is") == std::string::npos);
}

}  // namespace config_tls_test
