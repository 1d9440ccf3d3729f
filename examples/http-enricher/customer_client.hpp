#pragma once
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace httplib {
class Client;
}

namespace http_enricher {

/// Calls the customer service, `GET <base_url>/customers/<id>`, with connections kept alive
/// and used again: an idle client (one kept-alive connection each) is taken from a pool for
/// each call and given back after it, so calls on several worker threads (KERNEL_CONCURRENCY)
/// never share a connection and none is opened per call. Thread-safe.
class CustomerClient {
 public:
  CustomerClient();
  ~CustomerClient();
  CustomerClient(const CustomerClient&) = delete;
  CustomerClient& operator=(const CustomerClient&) = delete;

  /// The customer `id` as the service knows it (a JSON object), asked with `X-Correlation-Id:
  /// correlation_id` when it is not empty. The call (connecting, sending, each wait for the
  /// answer) gives up at `deadline`.
  ///
  /// Throws, as the runtime needs to know what to do (service_answer.hpp for the statuses):
  /// kernel::TransientError for an unreachable service, a call past its deadline (reason
  /// `timeout`), a 408, 429 or 5xx (with the delay its Retry-After asks for); PermanentError
  /// for another 4xx, or an `id` that is not 1 to 64 letters, digits, `-` and `_`;
  /// kernel::FatalError for a `base_url` that is not http(s)://host[:port][/path].
  nlohmann::json customer(const std::string& base_url, const std::string& id,
                          std::chrono::steady_clock::time_point deadline, const std::string& correlation_id);

 private:
  using Pooled = std::pair<std::string, std::unique_ptr<httplib::Client>>;  // its origin, the client
  std::unique_ptr<httplib::Client> take(const std::string& origin);
  void give_back(const std::string& origin, std::unique_ptr<httplib::Client> client);

  std::mutex mutex_;
  std::vector<Pooled> idle_;  // at most one per call that ran at once
};

}  // namespace http_enricher
