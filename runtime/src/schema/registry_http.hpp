#pragma once
// The schema registry's REST transport: one HTTP(S) connection (cpp-httplib), basic auth,
// TLS from PEM in memory, timeouts and a bound on the answer's size. Answers are JSON; every
// failure is sorted into a RegistryError.
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "schema/registry_options.hpp"
#include "schema/registry_result.hpp"

namespace httplib {
class ClientImpl;
}

namespace kernel::schema {

class RegistryHttp {
 public:
  /// Throws std::invalid_argument for a URL that is not http(s)://host[:port][/prefix] or TLS
  /// material OpenSSL cannot read.
  explicit RegistryHttp(const RegistryOptions& options);
  ~RegistryHttp();
  RegistryHttp(const RegistryHttp&) = delete;
  RegistryHttp& operator=(const RegistryHttp&) = delete;

  /// GET `path` (after the URL's prefix); the answer's JSON or why there is none.
  RegistryResult<nlohmann::json> get(std::string_view path);
  /// POST `body` as JSON to `path`.
  RegistryResult<nlohmann::json> post(std::string_view path, const nlohmann::json& body);

 private:
  RegistryResult<nlohmann::json> send(std::string_view method, std::string_view path, const std::string* body);

  std::string prefix_;
  std::string where_;  // scheme://host:port for messages; never the credentials
  std::size_t max_answer_bytes_;
  std::mutex mutex_;  // one request at a time on the one connection
  std::unique_ptr<httplib::ClientImpl> client_;
};

/// `text` with the characters a path segment may not hold percent-encoded (a subject name).
std::string encode_path_segment(std::string_view text);

}  // namespace kernel::schema
