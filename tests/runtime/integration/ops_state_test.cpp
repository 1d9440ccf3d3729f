// What a running kernel publishes to its HTTP endpoints when the cluster changes under it: the
// lag of paused partitions, and readiness when the brokers go away and come back. On the
// embedded broker, in process.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <regex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "kernel/testing.hpp"
#include "kernels.hpp"
#include "wait.hpp"

namespace ops_state_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

/// Sum of kernel_consumer_lag over every partition in a /metrics text.
double total_lag(const std::string& text) {
  static const std::regex sample(R"(^kernel_consumer_lag\{[^}]*\} (\S+)$)", std::regex::multiline);
  double total = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), sample); it != std::sregex_iterator(); ++it) {
    total += std::stod((*it)[1]);
  }
  return total;
}

}  // namespace

TEST_CASE("the lag of paused partitions keeps growing in /admin/status and kernel_consumer_lag") {
  kernel::testing::KernelFixture fixture(testkernels::json_echo("lag-kernel"),
                                         {{env_var::KERNEL_HTTP_PORT, "0"}, {env_var::KERNEL_ADMIN_TOKEN, "T"}});
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(10s);
  const httplib::Headers auth{{"Authorization", "Bearer T"}};
  auto paused = client.Post("/admin/pause", auth, "", "text/plain");
  REQUIRE(paused);
  REQUIRE(paused->status == 200);

  for (int n = 0; n < 30; ++n) fixture.send({{"n", n}});
  std::int64_t status_lag = -1;
  double metrics_lag = -1;
  // Queried at least every few seconds, off the loop: well within 15 s.
  const bool seen = testwait::wait_until(
      [&] {
        const auto status = nlohmann::json::parse(client.Get("/admin/status")->body);
        status_lag = 0;
        for (const auto& p : status["partitions"])
          status_lag += p["lag"].is_number() ? p["lag"].get<std::int64_t>() : 0;
        metrics_lag = total_lag(client.Get("/metrics")->body);
        return status_lag == 30 && metrics_lag == 30;
      },
      15s);
  CAPTURE(status_lag);
  CAPTURE(metrics_lag);
  CHECK(seen);

  auto resumed = client.Post("/admin/resume", auth, "", "text/plain");
  REQUIRE(resumed);
  CHECK(resumed->status == 200);
  CHECK(fixture.outputs(30, 30s).size() == 30);
  CHECK(testwait::wait_until([&] { return total_lag(client.Get("/metrics")->body) == 0; }, 15s));
}

TEST_CASE("readyz turns 503 when every broker is gone for longer than the session timeout, and 200 once back") {
  kernel::testing::KernelFixture fixture(testkernels::json_echo("ready-kernel"),
                                         {{env_var::KERNEL_HTTP_PORT, "0"},
                                          {env_var::KAFKA_CONSUMER_SESSION_TIMEOUT, "3s"},
                                          {env_var::KAFKA_CONSUMER_HEARTBEAT_INTERVAL, "500ms"}});
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(5s);
  auto readyz = [&] {
    auto response = client.Get("/readyz");
    REQUIRE(response);
    return std::make_pair(response->status, nlohmann::json::parse(response->body)["reason"].get<std::string>());
  };
  REQUIRE(readyz().first == 200);  // the fixture returns once the kernel joined

  REQUIRE(rd_kafka_mock_broker_set_down(fixture.mock_cluster(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  const auto down_at = std::chrono::steady_clock::now();
  std::pair<int, std::string> seen;
  CHECK(testwait::wait_until([&] { return (seen = readyz()).first == 503; }, 20s));
  CAPTURE(seen.second);
  // Not before the session timeout: a short outage does not take the kernel out of rotation.
  // The session counts from the last heartbeat, up to one heartbeat interval before down_at.
  CHECK(std::chrono::steady_clock::now() - down_at >= 3s - 500ms);
  CHECK((seen.second.find("no connection to any broker") != std::string::npos ||
         seen.second.find("lost its membership") != std::string::npos));

  REQUIRE(rd_kafka_mock_broker_set_up(fixture.mock_cluster(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  CHECK(testwait::wait_until([&] { return (seen = readyz()).first == 200; }, 30s));
  CHECK(seen.second.rfind("member of group ", 0) == 0);
  // And it works again: a message goes through.
  fixture.send({{"n", 1}});
  CHECK(fixture.outputs(1, 30s).size() == 1);
}

}  // namespace ops_state_test
