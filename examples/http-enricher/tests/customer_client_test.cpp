// The client against a real HTTP server in the test's process: connections are kept and used
// again, a call never outlives its deadline, and the service's answers reach the runtime as the
// errors that say what to do.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include <httplib.h>

#include <kernel/kernel.hpp>

#include "customer_client.hpp"

namespace customer_client_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// The customer service, on 127.0.0.1: /customers/<id> answers the customer; /slow waits 2 s
/// first; /throttled answers 429 with Retry-After: 3. It records the client port of each request.
class Service {
 public:
  Service() {
    server_.Get(R"(/customers/([\w-]+))", [this](const httplib::Request& request, httplib::Response& response) {
      record(request);
      response.set_content(nlohmann::json{{"id", request.matches[1]}, {"tier", "gold"}}.dump(), "application/json");
    });
    server_.Get(R"(/slow/customers/([\w-]+))", [this](const httplib::Request& request, httplib::Response& response) {
      record(request);
      std::this_thread::sleep_for(2s);  // the slow service itself, not a synchronisation
      response.set_content("{}", "application/json");
    });
    server_.Get(R"(/throttled/customers/([\w-]+))",
                [this](const httplib::Request& request, httplib::Response& response) {
                  record(request);
                  response.status = 429;
                  response.set_header("Retry-After", "3");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");  // clients can connect from here on
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would not end it: wait for it, with a deadline.
    const auto deadline = Clock::now() + 10s;
    while (!server_.is_running() && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    if (!server_.is_running()) throw std::runtime_error("the test's HTTP server did not start");
  }
  ~Service() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::size_t connections() {
    std::lock_guard lock(mutex_);
    return client_ports_.size();
  }
  std::string last_correlation_id() {
    std::lock_guard lock(mutex_);
    return last_correlation_id_;
  }

 private:
  void record(const httplib::Request& request) {
    std::lock_guard lock(mutex_);
    client_ports_.insert(request.remote_port);
    last_correlation_id_ = request.get_header_value("X-Correlation-Id");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::set<int> client_ports_;
  std::string last_correlation_id_;
};

TEST_CASE("successive calls use one kept-alive connection") {
  Service service;
  http_enricher::CustomerClient client;
  for (int n = 0; n < 5; ++n) {
    CHECK(client.customer(service.url(), "c-" + std::to_string(n), Clock::now() + 2s, "corr-1")["id"] ==
          "c-" + std::to_string(n));
  }
  CHECK(service.connections() == 1);
  CHECK(service.last_correlation_id() == "corr-1");
}

TEST_CASE("a call gives up at its deadline: a transient timeout") {
  Service service;
  http_enricher::CustomerClient client;
  const auto started = Clock::now();
  try {
    (void)client.customer(service.url() + "/slow", "c-1", started + 300ms, "");
    FAIL("the slow call returned");
  } catch (const kernel::TransientError& error) {
    CAPTURE(std::string(error.what()));
    CHECK(error.reason() == kernel::FailureReason::timeout);
  }
  CHECK(Clock::now() - started < 1500ms);  // the service answers after 2 s
}

TEST_CASE("a call whose deadline has passed is not made") {
  Service service;
  http_enricher::CustomerClient client;
  CHECK_THROWS_AS((void)client.customer(service.url(), "c-1", Clock::now() - 1ms, ""), kernel::TransientError);
  CHECK(service.connections() == 0);
}

TEST_CASE("a 429 reaches the runtime with the service's Retry-After") {
  Service service;
  http_enricher::CustomerClient client;
  try {
    (void)client.customer(service.url() + "/throttled", "c-1", Clock::now() + 2s, "");
    FAIL("a 429 was taken for an answer");
  } catch (const kernel::TransientError& error) {
    CHECK(error.requested_delay() == std::chrono::milliseconds(3s));
  }
}

TEST_CASE("a service that is not there is a transient failure") {
  std::string url;
  {
    Service gone;
    url = gone.url();
  }
  http_enricher::CustomerClient client;
  CHECK_THROWS_AS((void)client.customer(url, "c-1", Clock::now() + 2s, ""), kernel::TransientError);
}

TEST_CASE("a customer id that cannot be a path segment is refused before any call") {
  http_enricher::CustomerClient client;
  CHECK_THROWS_AS((void)client.customer("http://127.0.0.1:9", "../admin", Clock::now() + 2s, ""),
                  kernel::PermanentError);
  CHECK_THROWS_AS((void)client.customer("http://127.0.0.1:9", "", Clock::now() + 2s, ""), kernel::PermanentError);
}

TEST_CASE("a service URL that is not http(s)://host[:port][/path] is a configuration mistake") {
  http_enricher::CustomerClient client;
  CHECK_THROWS_AS((void)client.customer("ftp://example", "c-1", Clock::now() + 2s, ""), kernel::FatalError);
  CHECK_THROWS_AS((void)client.customer("example:80", "c-1", Clock::now() + 2s, ""), kernel::FatalError);
}

}  // namespace customer_client_test
