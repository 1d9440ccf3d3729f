// The HTTP server on its own (no broker): health, readiness, metrics, admin authentication,
// bad requests, and the port rules. Slow and idle clients: ops_server_slow_clients_test.cpp.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <sstream>
#include <thread>

#include <httplib.h>
#include <spdlog/sinks/null_sink.h>
#include <nlohmann/json.hpp>

#include "http/operations.hpp"
#include "http/ops_server.hpp"
#include "kernel/env_vars.hpp"
#include "ops_server_fixture.hpp"

namespace ops_server_test {

using kernel::detail::OpsServer;
using kernel::detail::OpsServerOptions;
using kernel::detail::OpsState;
using kernel::detail::Phase;
using ops_server_fixture::Served;

namespace {

/// Stands in for the loop: applies operator pause requests as they come.
struct FakeLoop {
  explicit FakeLoop(OpsState& state) : state_(state), thread_([this] { run(); }) {}
  ~FakeLoop() {
    stop_ = true;
    thread_.join();
  }
  void run() {
    std::uint64_t applied = 0;
    while (!stop_) {
      state_.heartbeat(OpsState::Clock::now());
      if (auto wanted = state_.requested_generation(); wanted != applied) {
        paused = state_.operator_pause_wanted();
        applied = wanted;
        state_.acknowledge(applied);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // a poll
    }
  }
  OpsState& state_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> paused{false};
  std::thread thread_;
};

/// What a shell command prints on stdout.
std::string output_of(const std::string& command) {
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    while (auto n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    pclose(pipe);
  }
  return out;
}

}  // namespace

TEST_CASE("healthz is 200 while the loop beats and 503 once it stalls") {
  Served served("", std::chrono::milliseconds(300));
  auto alive = served.client->Get("/healthz");
  REQUIRE(alive);
  CHECK(alive->status == 200);
  CHECK(nlohmann::json::parse(alive->body)["status"] == "alive");
  // No beat for longer than stall_after: the state says so without anyone sleeping on it.
  served.state.heartbeat(OpsState::Clock::now() - std::chrono::seconds(1));
  auto stalled = served.client->Get("/healthz");
  REQUIRE(stalled);
  CHECK(stalled->status == 503);
  CHECK(nlohmann::json::parse(stalled->body)["status"] == "stalled");
}

TEST_CASE("healthz is 503 while a call in any thread's slot runs past stuck_after, naming the longest-running") {
  Served served;
  const std::string topic = "orders";
  const auto now = OpsState::Clock::now();
  served.state.set_stuck_after(std::chrono::milliseconds(100), 3);  // the loop and two workers
  served.state.call_started(0, now, topic, 0, 1);                   // the loop's: not stuck yet
  served.state.call_started(1, now - std::chrono::seconds(2), topic, 2, 1234);
  served.state.call_started(2, now - std::chrono::seconds(5), topic, 3, 7);
  auto stuck_on = [&] {
    const auto response = served.client->Get("/healthz");
    REQUIRE(response);
    const auto body = nlohmann::json::parse(response->body);
    if (response->status == 200) return std::string("-");
    CHECK(response->status == 503);
    CHECK(body["status"] == "stuck");
    return body["handler_stuck_on"].get<std::string>();
  };
  CHECK(stuck_on() == "orders[3]@7");
  served.state.call_ended(2);
  CHECK(stuck_on() == "orders[2]@1234");
  served.state.call_ended(1);
  CHECK(stuck_on() == "-");
  // The loop's own call, named as a batch names it.
  served.state.call_started(now - std::chrono::seconds(1), "orders[0]@15..30");
  CHECK(stuck_on() == "orders[0]@15..30");
  served.state.call_ended();
  CHECK(stuck_on() == "-");
}

TEST_CASE("readyz follows the phase with a JSON reason") {
  Served served;
  auto starting = served.client->Get("/readyz");
  REQUIRE(starting);
  CHECK(starting->status == 503);
  CHECK(nlohmann::json::parse(starting->body)["reason"].get<std::string>().find("not yet a member of group g1") !=
        std::string::npos);
  served.state.set_phase(Phase::ready);
  auto ready = served.client->Get("/readyz");
  CHECK(ready->status == 200);
  CHECK(nlohmann::json::parse(ready->body)["ready"] == true);
  served.state.set_phase(Phase::stopping);
  auto stopping = served.client->Get("/readyz");
  CHECK(stopping->status == 503);
  CHECK(nlohmann::json::parse(stopping->body)["reason"] == "shutting down");
}

TEST_CASE("kernel_ready in /metrics says what /readyz would answer at that moment") {
  Served served;
  auto ready_metric = [&] {
    const auto body = served.client->Get("/metrics")->body;
    const auto at = body.find("\nkernel_ready ");
    REQUIRE(at != std::string::npos);
    return std::stod(body.substr(at + 14));
  };
  CHECK(ready_metric() == 0);  // starting
  served.state.set_phase(Phase::ready);
  CHECK(ready_metric() == 1);
  served.state.brokers_down(OpsState::Clock::now() - std::chrono::seconds(11));  // past the session timeout
  CHECK(ready_metric() == 0);
  served.state.brokers_up();
  CHECK(ready_metric() == 1);
  served.state.set_phase(Phase::stopping);
  CHECK(ready_metric() == 0);
}

TEST_CASE("metrics are served as Prometheus text with every documented family") {
  Served served;
  served.metrics.input_topic("orders").consumed->Increment(3);
  served.metrics.produced("orders.out").Increment();
  served.metrics.set_lag("orders", 0, 7);
  auto response = served.client->Get("/metrics");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->get_header_value("Content-Type").find("text/plain; version=0.0.4") == 0);
  for (const char* family :
       {"kernel_messages_consumed_total", "kernel_messages_handled_total", "kernel_messages_produced_total",
        "kernel_handler_duration_seconds", "kernel_in_flight_messages", "kernel_consumer_lag",
        "kernel_partitions_paused", "kernel_commits_total", "kernel_rebalances_total"}) {
    CAPTURE(family);
    CHECK(response->body.find(std::string("# TYPE ") + family) != std::string::npos);
  }
  CHECK(response->body.find("kernel_messages_consumed_total{topic=\"orders\"} 3") != std::string::npos);
  CHECK(response->body.find("kernel_partitions_paused{reason=\"operator\"} 0") != std::string::npos);
  CHECK(response->body.find("kernel_consumer_lag{partition=\"0\",topic=\"orders\"} 7") != std::string::npos);
  served.metrics.set_lag("orders", 0, -1);  // revoked: the series goes away
  CHECK(served.client->Get("/metrics")->body.find("kernel_consumer_lag{") == std::string::npos);
}

TEST_CASE("admin endpoints without a configured token answer 403 saying how to turn them on") {
  Served served;
  auto response =
      served.client->Post("/admin/pause", httplib::Headers{{"Authorization", "Bearer anything"}}, "", "text/plain");
  REQUIRE(response);
  CHECK(response->status == 403);
  CHECK(response->body.find(kernel::env_var::KERNEL_ADMIN_TOKEN) != std::string::npos);
}

TEST_CASE("admin pause and resume need the bearer token and are applied by the loop") {
  Served served("s3cret-token");
  FakeLoop loop(served.state);
  SUBCASE("missing, malformed and wrong tokens are refused with 401") {
    for (const char* header :
         {"", "s3cret-token", "Basic s3cret-token", "Bearer ", "Bearer s3cret-tokeN", "Bearer s3cret-token-and-more"}) {
      CAPTURE(header);
      httplib::Headers headers;
      if (*header) headers.emplace("Authorization", header);
      auto response = served.client->Post("/admin/pause", headers, "", "text/plain");
      REQUIRE(response);
      CHECK(response->status == 401);
      CHECK(response->get_header_value("WWW-Authenticate") == "Bearer");
    }
    CHECK_FALSE(loop.paused);
    CHECK(served.state.requested_generation() == 0);
  }
  SUBCASE("the right token pauses and resumes") {
    const httplib::Headers auth{{"Authorization", "Bearer s3cret-token"}};
    auto paused = served.client->Post("/admin/pause", auth, "", "text/plain");
    REQUIRE(paused);
    CHECK(paused->status == 200);
    CHECK(nlohmann::json::parse(paused->body)["applied"] == true);
    CHECK(loop.paused);
    auto status = served.client->Get("/admin/status");
    CHECK(nlohmann::json::parse(status->body)["operator_paused"] == true);
    auto resumed = served.client->Post("/admin/resume", auth, "", "text/plain");
    CHECK(resumed->status == 200);
    CHECK_FALSE(loop.paused);
  }
  SUBCASE("GET on a mutating endpoint is 405") {
    auto response = served.client->Get("/admin/pause");
    CHECK(response->status == 405);
    CHECK(response->get_header_value("Allow") == "POST");
  }
}

TEST_CASE("status shows the published snapshot") {
  Served served;
  kernel::detail::StatusSnapshot snapshot;
  snapshot.partitions.push_back({"orders", 2, 15, 10, 0, 20, 10, 5, 7, {}});
  snapshot.partitions[0].paused.add(kernel::detail::PauseReason::operator_);
  snapshot.partitions[0].paused.add(kernel::detail::PauseReason::retry);
  snapshot.in_flight = 5;
  snapshot.parked = 7;  // named apart: the in-flight bound does not cover them
  REQUIRE(served.state.publish(snapshot));
  auto response = served.client->Get("/admin/status");
  REQUIRE(response);
  const auto body = nlohmann::json::parse(response->body);
  CHECK(body["in_flight"] == 5);
  CHECK(body["parked"] == 7);
  CHECK(body["dead_letter_blocked"].is_null());
  REQUIRE(body["partitions"].size() == 1);
  const auto& p = body["partitions"][0];
  CHECK(p["topic"] == "orders");
  CHECK(p["committed"] == 10);
  CHECK(p["lag"] == 10);
  CHECK(p["in_flight"] == 5);
  CHECK(p["parked"] == 7);
  CHECK(p["paused"] == nlohmann::json::array({"retry", "operator"}));
}

TEST_CASE("status shows the last failed attempt with its trace id, null before any") {
  Served served;
  kernel::detail::StatusSnapshot snapshot;
  REQUIRE(served.state.publish(snapshot));
  CHECK(nlohmann::json::parse(served.client->Get("/admin/status")->body)["last_failure"].is_null());
  snapshot.last_failure = {"orders",     2, 15, "permanent", "validation_error", "4bf92f3577b34da6a3ce929d0e0e4736",
                           1795403378123};
  REQUIRE(served.state.publish(snapshot));
  const auto failure = nlohmann::json::parse(served.client->Get("/admin/status")->body)["last_failure"];
  CHECK(failure == nlohmann::json{{"topic", "orders"},
                                  {"partition", 2},
                                  {"offset", 15},
                                  {"class", "permanent"},
                                  {"reason", "validation_error"},
                                  {"at", "2026-11-23T03:09:38.123Z"},
                                  {"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"}});
}

TEST_CASE("status names the circuit breaker's state `circuit`, the word docs/operations.md uses") {
  Served served;
  auto response = served.client->Get("/admin/status");
  REQUIRE(response);
  const auto body = nlohmann::json::parse(response->body);
  CHECK(body.contains("circuit"));
  CHECK_FALSE(body.contains("breaker"));
}

TEST_CASE("every pause reason has its own word; back-pressure has no paused-partitions series") {
  using kernel::detail::PauseReason;
  kernel::detail::PauseReasons paused;
  CHECK_FALSE(paused.any());
  paused.add(PauseReason::breaker);
  paused.add(PauseReason::backpressure);
  paused.remove(PauseReason::retry);  // never set: changes nothing
  CHECK(paused.has(PauseReason::breaker));
  CHECK(paused.has(PauseReason::backpressure));
  CHECK_FALSE(paused.has(PauseReason::operator_));
  paused.remove(PauseReason::breaker);
  CHECK(paused.any());
  paused.remove(PauseReason::backpressure);
  CHECK_FALSE(paused.any());

  Served served;
  const auto body = served.client->Get("/metrics")->body;
  for (const char* reason : {"retry", "operator", "breaker"}) {
    CAPTURE(reason);
    CHECK(body.find(std::string("kernel_partitions_paused{reason=\"") + reason + "\"} 0") != std::string::npos);
  }
  CHECK(body.find("reason=\"backpressure\"") == std::string::npos);
}

TEST_CASE("unknown paths, huge headers and junk get an error answer and the server keeps serving") {
  Served served;
  auto missing = served.client->Get("/nope");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(nlohmann::json::parse(missing->body)["error"] == "not found");

  auto huge = served.client->Get("/healthz", httplib::Headers{{"X-Big", std::string(64 * 1024, 'x')}});
  CHECK((!huge || huge->status >= 400));

  {
    // Raw junk on a socket.
    httplib::Client raw("127.0.0.1", served.server->port());
    auto junk = raw.Get(std::string(10000, '/'));
    CHECK((!junk || junk->status >= 400));
  }
  auto again = served.client->Get("/healthz");
  REQUIRE(again);
  CHECK(again->status == 200);
}

TEST_CASE("a port in use is refused, not shared") {
  Served first;
  OpsServerOptions options;
  options.host = "127.0.0.1";
  options.port = first.server->port();
  OpsState state;
  kernel::detail::KernelMetrics metrics(3);
  OpsServer second(options, state, metrics,
                   std::make_shared<spdlog::logger>("t2", std::make_shared<spdlog::sinks::null_sink_mt>()));
  CHECK_THROWS_AS(second.start(), kernel::detail::PortUnavailable);
}

TEST_CASE("--health-check's probe: 0 on 200, 1 otherwise or when nothing listens") {
  Served served("", std::chrono::milliseconds(300));
  std::ostringstream out;
  CHECK(kernel::detail::health_check("0.0.0.0", served.server->port(), out) == 0);
  CHECK(out.str().rfind("healthy", 0) == 0);
  served.state.heartbeat(OpsState::Clock::now() - std::chrono::seconds(1));
  out.str("");
  CHECK(kernel::detail::health_check("0.0.0.0", served.server->port(), out) == 1);
  CHECK(out.str().find("HTTP 503") != std::string::npos);
  const int port = served.server->port();
  served.server.reset();
  out.str("");
  CHECK(kernel::detail::health_check("0.0.0.0", port, out) == 1);
  CHECK(out.str().find("nothing answers") != std::string::npos);
}

TEST_CASE("curl -X POST with the token and no body pauses and resumes, as docs/operations.md shows it") {
  Served served("T");
  FakeLoop loop(served.state);
  const auto url = "http://127.0.0.1:" + std::to_string(served.server->port());
  // The documented command exactly (no body, so no Content-Length), plus where to print the status.
  const auto curl = [&](const std::string& path) {
    return output_of("curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer T' " +
                     url + path + " 2>&1");
  };
  CHECK(curl("/admin/pause") == "200");
  CHECK(loop.paused);
  CHECK(curl("/admin/resume") == "200");
  CHECK_FALSE(loop.paused);
}

TEST_CASE("a wrong method is 405 with Allow, an unknown path 404") {
  Served served("T");
  struct Case {
    const char* method;
    const char* path;
    int status;
    const char* allow;
  };
  for (const auto& c : {Case{"GET", "/admin/pause", 405, "POST"}, Case{"PUT", "/admin/resume", 405, "POST"},
                        Case{"POST", "/healthz", 405, "GET, HEAD"}, Case{"DELETE", "/metrics", 405, "GET, HEAD"},
                        Case{"POST", "/admin/status", 405, "GET, HEAD"}, Case{"POST", "/nope", 404, ""},
                        Case{"HEAD", "/readyz", 503, ""}}) {
    CAPTURE(c.method);
    CAPTURE(c.path);
    httplib::Request request;
    request.method = c.method;
    request.path = c.path;
    auto response = served.client->send(request);
    REQUIRE(response);
    CHECK(response->status == c.status);
    CHECK(response->get_header_value("Allow") == c.allow);
  }
}

TEST_CASE("readyz is 503 after losing the group or every broker for longer than the session timeout") {
  Served served;
  served.state.set_phase(Phase::ready);
  auto readyz = [&] {
    auto response = served.client->Get("/readyz");
    REQUIRE(response);
    return std::make_pair(response->status, nlohmann::json::parse(response->body)["reason"].get<std::string>());
  };
  SUBCASE("membership lost, then assigned again") {
    served.state.set_phase(Phase::rejoining);
    const auto [status, reason] = readyz();
    CHECK(status == 503);
    CHECK(reason == "lost its membership of group g1; rejoining");
    served.state.set_phase(Phase::ready);
    CHECK(readyz().first == 200);
  }
  SUBCASE("brokers down: ready within the session timeout, not past it, ready once one answers") {
    served.state.brokers_down(OpsState::Clock::now());
    CHECK(readyz().first == 200);
    served.state.brokers_up();
    served.state.brokers_down(OpsState::Clock::now() - std::chrono::seconds(11));  // the default timeout is 10 s
    const auto [status, reason] = readyz();
    CHECK(status == 503);
    CHECK(reason.find("no connection to any broker for 11") == 0);
    CHECK(nlohmann::json::parse(served.client->Get("/admin/status")->body)["brokers_down_ms"] >= 11000);
    served.state.brokers_up();
    CHECK(readyz().first == 200);
  }
  SUBCASE("nothing makes a stopping kernel ready again") {
    served.state.set_phase(Phase::stopping);
    served.state.set_phase(Phase::ready);
    CHECK(readyz() == std::make_pair(503, std::string("shutting down")));
  }
}

TEST_CASE("KERNEL_HTTP_ADDRESS binds the server to that address only") {
  // 127.0.0.2 is loopback too on Linux, but not 127.0.0.1: what answers where tells the binding.
  kernel::Settings settings;
  settings.http_port = 0;
  settings.http_address = "127.0.0.2";
  settings.session_timeout = std::chrono::seconds(2);
  auto operations = kernel::detail::Operations::start_if_enabled(
      settings, "0.1.0", std::make_shared<spdlog::logger>("t3", std::make_shared<spdlog::sinks::null_sink_mt>()));
  REQUIRE(operations);
  httplib::Client there("127.0.0.2", operations->port());
  there.set_connection_timeout(std::chrono::seconds(2));
  auto answered = there.Get("/healthz");
  REQUIRE(answered);
  CHECK(answered->status == 200);
  httplib::Client elsewhere("127.0.0.1", operations->port());
  elsewhere.set_connection_timeout(std::chrono::seconds(2));
  CHECK_FALSE(elsewhere.Get("/healthz"));

  std::ostringstream out;
  CHECK(kernel::detail::health_check(settings.http_address, operations->port(), out) ==
        0);  // --health-check asks there

  SUBCASE("readiness uses the configured session timeout") {
    operations->state().set_phase(Phase::ready);
    operations->state().brokers_down(OpsState::Clock::now() - std::chrono::seconds(3));  // > 2 s, < the default 10 s
    auto response = there.Get("/readyz");
    REQUIRE(response);
    CHECK(response->status == 503);
  }
}

TEST_CASE("an address that is not this host's is refused at start, naming KERNEL_HTTP_ADDRESS") {
  OpsServerOptions options;
  options.host = "192.0.2.1";  // TEST-NET-1: never assigned to a host
  options.port = 0;
  OpsState state;
  kernel::detail::KernelMetrics metrics(3);
  OpsServer server(options, state, metrics,
                   std::make_shared<spdlog::logger>("t4", std::make_shared<spdlog::sinks::null_sink_mt>()));
  CHECK_THROWS_WITH_AS(server.start(), doctest::Contains(kernel::env_var::KERNEL_HTTP_ADDRESS),
                       kernel::detail::PortUnavailable);
}

}  // namespace ops_server_test
