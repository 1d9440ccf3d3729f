#include "customer_client.hpp"

#include <algorithm>

#include <httplib.h>

#include <kernel/kernel.hpp>

#include "service_answer.hpp"

namespace http_enricher {
namespace {

/// `http://host:8081/api` as httplib wants it: the origin (`http://host:8081`) and a path
/// prefix (`/api`).
std::pair<std::string, std::string> split_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if ((scheme != "http" && scheme != "https") || url.size() == scheme_end + 3) {
    throw kernel::FatalError("HTTP_ENRICHER_SERVICE_URL is not an http:// or https:// URL");
  }
  const auto path_start = url.find('/', scheme_end + 3);
  if (path_start == std::string::npos) return {url, ""};
  auto prefix = url.substr(path_start);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return {url.substr(0, path_start), prefix};
}

/// An id that is safe as one path segment as it is: bounded and without anything to escape.
void check_customer_id(const std::string& id) {
  const bool fits = !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
  if (!fits) {
    throw kernel::PermanentError("field \"customer\": expected 1 to 64 letters, digits, - or _",
                                 kernel::FailureReason::validation_error);
  }
}

}  // namespace

CustomerClient::CustomerClient() = default;
CustomerClient::~CustomerClient() = default;

std::unique_ptr<httplib::Client> CustomerClient::take(const std::string& origin) {
  {
    std::lock_guard lock(mutex_);
    const auto found = std::find_if(idle_.rbegin(), idle_.rend(), [&](const Pooled& p) { return p.first == origin; });
    if (found != idle_.rend()) {
      auto client = std::move(found->second);
      idle_.erase(std::next(found).base());
      return client;
    }
  }
  auto client = std::make_unique<httplib::Client>(origin);
  if (!client->is_valid()) throw kernel::FatalError("HTTP_ENRICHER_SERVICE_URL: httplib cannot call " + origin);
  client->set_keep_alive(true);
  return client;
}

void CustomerClient::give_back(const std::string& origin, std::unique_ptr<httplib::Client> client) {
  std::lock_guard lock(mutex_);
  idle_.emplace_back(origin, std::move(client));
}

nlohmann::json CustomerClient::customer(const std::string& base_url, const std::string& id,
                                        std::chrono::steady_clock::time_point deadline,
                                        const std::string& correlation_id) {
  check_customer_id(id);
  const auto [origin, prefix] = split_url(base_url);
  // Rounded up: httplib waits in whole milliseconds, and a wait cut short by the rounding would
  // end just before the deadline and not count as reaching it.
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    throw kernel::TransientError("no time left to call the customer service", kernel::FailureReason::timeout);
  }

  auto client = take(origin);
  // httplib bounds connecting, and each wait for the socket, by these: all by what is left.
  client->set_connection_timeout(left);
  client->set_read_timeout(left);
  client->set_write_timeout(left);
  httplib::Headers headers{{"Accept", "application/json"}};
  if (!correlation_id.empty()) headers.emplace("X-Correlation-Id", correlation_id);
  const auto result = client->Get(prefix + "/customers/" + id, headers);
  if (!result) {
    // The connection's state is unknown after a failed call: it is not given back.
    if (std::chrono::steady_clock::now() >= deadline) {
      throw kernel::TransientError("the customer service did not answer within " + std::to_string(left.count()) + " ms",
                                   kernel::FailureReason::timeout);
    }
    throw kernel::TransientError("the customer service at " + origin +
                                 " could not be reached: " + httplib::to_string(result.error()) + " error");
  }
  const auto& response = result.value();
  give_back(origin, std::move(client));
  return customer_from_answer(response.status, response.body, response.get_header_value("Retry-After"),
                              std::chrono::system_clock::now());
}

}  // namespace http_enricher
