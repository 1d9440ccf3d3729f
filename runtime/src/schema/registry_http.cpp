// The schema registry's REST transport (registry_http.hpp).
#include "schema/registry_http.hpp"

#include <httplib.h>

#include <memory>
#include <regex>
#include <stdexcept>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <nlohmann/json.hpp>

namespace kernel::schema {

namespace {

struct BioDeleter {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* certificate) const noexcept { X509_free(certificate); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

BioPtr memory_bio(const std::string& pem) { return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

// Never prompts on a terminal: no password means the encrypted key cannot be read.
int key_password(char* buffer, int size, int, void* user) {
  const auto* password = static_cast<const std::string*>(user);
  if (password->empty() || static_cast<int>(password->size()) > size) return 0;
  password->copy(buffer, password->size());
  return static_cast<int>(password->size());
}

std::unique_ptr<httplib::ClientImpl> tls_client(const std::string& host, int port, const RegistryOptions& options) {
  std::unique_ptr<httplib::SSLClient> client;
  if (options.client_cert_pem.empty()) {
    client = std::make_unique<httplib::SSLClient>(host, port);
  } else {
    X509Ptr certificate(PEM_read_bio_X509(memory_bio(options.client_cert_pem).get(), nullptr, nullptr, nullptr));
    std::string password = options.client_key_password;
    PkeyPtr key(PEM_read_bio_PrivateKey(memory_bio(options.client_key_pem).get(), nullptr, key_password, &password));
    if (!certificate || !key) {
      throw std::invalid_argument("the schema registry's client certificate or key cannot be read");
    }
    // SSL_CTX takes its own references: ours are freed on return.
    client = std::make_unique<httplib::SSLClient>(host, port, certificate.get(), key.get());
  }
  if (!options.ca_pem.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(client->ssl_context());
    auto bio = memory_bio(options.ca_pem);
    int added = 0;
    while (X509Ptr certificate{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
      added += X509_STORE_add_cert(store, certificate.get());
    }
    if (added == 0) throw std::invalid_argument("the schema registry's CA certificate cannot be read");
  } else {
    SSL_CTX_set_default_verify_paths(client->ssl_context());
  }
  client->enable_server_certificate_verification(true);
  return client;
}

RegistryError error_from_answer(int status, const std::string& body) {
  std::string message = "HTTP " + std::to_string(status);
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("message") && json["message"].is_string()) {
    message += ": " + json["message"].get<std::string>().substr(0, 300);
  }
  RegistryErrorKind kind = RegistryErrorKind::refused;
  if (status == 404) kind = RegistryErrorKind::not_found;
  if (status == 409) kind = RegistryErrorKind::incompatible;
  if (status >= 500 || status == 429 || status == 408) kind = RegistryErrorKind::unavailable;
  return {kind, std::move(message)};
}

}  // namespace

RegistryHttp::RegistryHttp(const RegistryOptions& options) : max_answer_bytes_(options.max_answer_bytes) {
  static const std::regex url_shape(R"(^(https?)://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?(/[^?#]*)?$)");
  std::smatch parts;
  if (!std::regex_match(options.url, parts, url_shape)) {
    throw std::invalid_argument("the schema registry's URL is not http(s)://host[:port][/path]");
  }
  const bool tls = parts[1] == "https";
  const std::string host = parts[2];
  const int port = parts[3].matched ? std::stoi(parts[3]) : (tls ? 443 : 80);
  if (port < 1 || port > 65535) throw std::invalid_argument("the schema registry's port is not 1 to 65535");
  prefix_ = parts[4];
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  where_ = std::string(parts[1]) + "://" + host + ":" + std::to_string(port);
  client_ = tls ? tls_client(host, port, options) : std::make_unique<httplib::ClientImpl>(host, port);
  const auto seconds = options.timeout.count() / 1000;
  const auto micros = (options.timeout.count() % 1000) * 1000;
  client_->set_connection_timeout(seconds, micros);
  client_->set_read_timeout(seconds, micros);
  client_->set_write_timeout(seconds, micros);
  client_->set_keep_alive(true);
  if (!options.user.empty()) client_->set_basic_auth(options.user, options.password);
}

RegistryHttp::~RegistryHttp() = default;

RegistryResult<nlohmann::json> RegistryHttp::get(std::string_view path) { return send("GET", path, nullptr); }

RegistryResult<nlohmann::json> RegistryHttp::post(std::string_view path, const nlohmann::json& body) {
  const std::string text = body.dump();
  return send("POST", path, &text);
}

RegistryResult<nlohmann::json> RegistryHttp::send(std::string_view method, std::string_view path,
                                                  const std::string* body) {
  httplib::Request request;
  request.method = std::string(method);
  request.path = prefix_ + std::string(path);
  request.headers.emplace("Accept", "application/vnd.schemaregistry.v1+json, application/json");
  if (body != nullptr) {
    request.body = *body;
    request.headers.emplace("Content-Type", "application/vnd.schemaregistry.v1+json");
  }
  std::string answer;
  bool too_large = false;
  request.content_receiver = [&](const char* data, std::size_t length, std::uint64_t, std::uint64_t) {
    if (answer.size() + length > max_answer_bytes_) {
      too_large = true;
      return false;
    }
    answer.append(data, length);
    return true;
  };
  httplib::Response response;
  httplib::Error error = httplib::Error::Success;
  bool sent = false;
  {
    std::lock_guard lock(mutex_);
    sent = client_->send(request, response, error);
  }
  const std::string what = request.method + " " + where_ + request.path;
  if (too_large) {
    return RegistryError{RegistryErrorKind::invalid_answer,
                         what + ": answer larger than " + std::to_string(max_answer_bytes_) + " bytes"};
  }
  if (!sent) return RegistryError{RegistryErrorKind::unavailable, what + ": " + httplib::to_string(error)};
  if (response.status < 200 || response.status > 299) {
    auto failure = error_from_answer(response.status, answer);
    failure.message = what + ": " + failure.message;
    return failure;
  }
  auto json = nlohmann::json::parse(answer, nullptr, false);
  if (json.is_discarded()) return RegistryError{RegistryErrorKind::invalid_answer, what + ": answer is not JSON"};
  return json;
}

std::string encode_path_segment(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace kernel::schema
