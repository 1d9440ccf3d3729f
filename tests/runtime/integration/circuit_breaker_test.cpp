// The circuit breaker and the handler deadline on the embedded broker, in process: a
// downstream outage (a flag the test flips, not time) parks nothing in the dead-letter topic
// and every message comes out once it ends; a late call is a transient `timeout`; a stuck
// call fails /healthz until it returns.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <regex>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "gate.hpp"
#include "kernel/testing.hpp"
#include "wait.hpp"

namespace circuit_breaker_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

/// The value of an unlabelled sample in a /metrics text (-1 when absent).
double metric(const std::string& text, const std::string& name) {
  const std::regex sample("^" + name + R"( (\S+)$)", std::regex::multiline);
  std::smatch match;
  return std::regex_search(text, match, sample) ? std::stod(match[1]) : -1;
}

std::map<std::string, std::string> headers_of(const kernel::jsonl::Record& record) {
  return {record.headers.begin(), record.headers.end()};
}

}  // namespace

TEST_CASE("circuit breaker: a downstream outage parks nothing in the dead-letter topic; everything comes out after") {
  std::atomic<bool> outage{true};
  std::atomic<int> failed_calls{0};
  kernel::KernelSpec spec;
  spec.name = "breaker-kernel";
  spec.input_topics = {"breaker.in"};
  spec.output_topic = "breaker.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    if (outage.load()) {
      ++failed_calls;
      throw std::runtime_error("connection refused");
    }
    context.produce(kernel::Outgoing{}.json(message.json()));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_BREAKER_THRESHOLD, "3"},
                                                {env_var::KERNEL_BREAKER_COOLDOWN, "200ms"},
                                                {env_var::KERNEL_BREAKER_COOLDOWN_MAX, "400ms"},
                                                {env_var::KAFKA_CONSUMER_MAX_RETRIES, "2"},
                                                {env_var::KERNEL_RETRY_BACKOFF, "20ms"},
                                                {env_var::KERNEL_RETRY_JITTER, "0"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                                {env_var::KERNEL_HTTP_PORT, "0"}});
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(10s);
  constexpr int count = 10;
  for (int n = 0; n < count; ++n) fixture.send({{"n", n}}, "key-" + std::to_string(n));

  // Open, then probes that fail and reopen it: at least open -> half_open -> open -> half_open -> open.
  nlohmann::json status;
  std::string metrics;
  const bool opened = testwait::wait_until(
      [&] {
        status = nlohmann::json::parse(client.Get("/admin/status")->body);
        metrics = client.Get("/metrics")->body;
        return metric(metrics, "kernel_circuit_breaker_transitions_total") >= 4 &&
               status["circuit"]["state"] == "open" && metric(metrics, "kernel_circuit_breaker_state") == 1;
      },
      20s);
  CAPTURE(status.dump());
  CAPTURE(metrics);
  REQUIRE(opened);
  CHECK(status["circuit"]["probe_at"].is_string());
  CHECK(status["circuit"]["opened_at"].is_string());
  bool breaker_pause_shown = false;
  for (const auto& p : status["partitions"]) {
    for (const auto& reason : p["paused"]) breaker_pause_shown |= reason == "breaker";
  }
  CHECK(breaker_pause_shown);
  CHECK(std::regex_search(metrics, std::regex(R"(kernel_partitions_paused\{reason="breaker"\} [1-9])")));
  // Readiness does not change for a downstream outage.
  CHECK(client.Get("/readyz")->status == 200);
  CHECK(client.Get("/healthz")->status == 200);
  // While open, calls are few: one probe per cooldown, not every message's retries.
  const int calls_while_open = failed_calls.load();
  CHECK(calls_while_open < 3 + 10);

  outage = false;
  const auto outputs = fixture.outputs(count, 30s);
  CHECK(outputs.size() == count);
  CHECK(fixture.read_topic("breaker-kernel.dlq", 0, 1s).empty());
  const bool closed = testwait::wait_until(
      [&] {
        status = nlohmann::json::parse(client.Get("/admin/status")->body);
        metrics = client.Get("/metrics")->body;
        return status["circuit"]["state"] == "closed" && metric(metrics, "kernel_circuit_breaker_state") == 0;
      },
      10s);
  CHECK(closed);
}

TEST_CASE("circuit breaker: KERNEL_BREAKER_THRESHOLD=0 leaves it off; status shows circuit null") {
  kernel::KernelSpec spec;
  spec.name = "nobreaker-kernel";
  spec.input_topics = {"nobreaker.in"};
  spec.output_topic = "nobreaker.out";
  spec.handler = [](const kernel::Message&, kernel::Context&) { throw std::runtime_error("connection refused"); };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_BREAKER_THRESHOLD, "0"},
                                                {env_var::KAFKA_CONSUMER_MAX_RETRIES, "1"},
                                                {env_var::KERNEL_RETRY_BACKOFF, "20ms"},
                                                {env_var::KERNEL_HTTP_PORT, "0"}});
  for (int n = 0; n < 3; ++n) fixture.send({{"n", n}});
  // 6 consecutive failures, no breaker: all three dead-lettered as before.
  CHECK(fixture.dead_letters(3, 20s).size() == 3);
  httplib::Client client("127.0.0.1", fixture.http_port());
  CHECK(nlohmann::json::parse(client.Get("/admin/status")->body)["circuit"].is_null());
}

TEST_CASE("handler deadline: a call returning past it is a transient timeout, its outputs discarded") {
  std::atomic<int> calls{0};
  kernel::KernelSpec spec;
  spec.name = "deadline-kernel";
  spec.input_topics = {"deadline.in"};
  spec.output_topic = "deadline.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    ++calls;
    REQUIRE(context.deadline().has_value());
    context.produce(kernel::Outgoing{}.json({{"attempt", context.attempt()}}));
    const auto doc = message.json();
    // Slow I/O simulated: run past the deadline the context states (first attempt, or always).
    if (doc["slow"] == "always" || (doc["slow"] == "once" && context.attempt() == 1)) {
      while (std::chrono::steady_clock::now() <= *context.deadline() + 20ms) {
      }
    }
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_HANDLER_TIMEOUT, "100ms"},
                                                {env_var::KERNEL_BREAKER_THRESHOLD, "0"},
                                                {env_var::KAFKA_CONSUMER_MAX_RETRIES, "1"},
                                                {env_var::KERNEL_RETRY_BACKOFF, "20ms"}});
  fixture.send({{"slow", "once"}}, "once");
  const auto outputs = fixture.outputs(1, 20s);
  REQUIRE(outputs.size() == 1);
  CHECK(nlohmann::json::parse(outputs[0].value)["attempt"] == 2);  // the late first attempt's output is gone
  CHECK(headers_of(outputs[0])["retry-count"] == "1");

  fixture.send({{"slow", "always"}}, "always");
  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  const auto headers = headers_of(letters[0]);
  CHECK(headers.at("dlq-failure-reason") == "timeout");
  CHECK(headers.at("dlq-error-class") == "transient");
  CHECK(headers.at("dlq-error-type") == "kernel::HandlerTimeout");
  CHECK(headers.at("dlq-error-message").find(env_var::KERNEL_HANDLER_TIMEOUT) != std::string::npos);
  CHECK(fixture.read_topic("deadline.out", 2, 3s).size() == 1);  // nothing more came out (waits 3 s for a second)
}

TEST_CASE("handler deadline: a call stuck past 3x the deadline fails /healthz, naming the message, until it returns") {
  // On the loop thread, or on a worker while the loop and the other workers go on.
  int concurrency = 1;
  SUBCASE("KERNEL_CONCURRENCY=1") { concurrency = 1; }
  SUBCASE("KERNEL_CONCURRENCY=4") { concurrency = 4; }
  testwait::Gate gate;
  kernel::KernelSpec spec;
  spec.name = "stuck-kernel";
  spec.input_topics = {"stuck.in"};
  spec.output_topic = "stuck.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    if (message.json()["stuck"] == true) gate.pass(30s);
    context.produce(kernel::Outgoing{}.json(message.json()));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_HANDLER_TIMEOUT, "100ms"},
                                                {env_var::KERNEL_BREAKER_THRESHOLD, "0"},
                                                {env_var::KERNEL_RETRY_BACKOFF, "20ms"},
                                                {env_var::KERNEL_CONCURRENCY, std::to_string(concurrency)},
                                                {env_var::KERNEL_HTTP_PORT, "0"}});
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(10s);
  CHECK(client.Get("/healthz")->status == 200);
  fixture.send({{"stuck", true}}, "stuck");
  REQUIRE(gate.wait_for_arrival(20s));
  std::size_t expected_outputs = 1;
  if (concurrency > 1) {
    fixture.send({{"stuck", false}}, "other");  // another key: handled beside the stuck call
    CHECK(fixture.outputs(1, 20s).size() == 1);
    expected_outputs = 2;
  }
  nlohmann::json body;
  const bool failing = testwait::wait_until(
      [&] {
        auto result = client.Get("/healthz");
        body = nlohmann::json::parse(result->body);
        return result->status == 503;
      },
      10s);
  CAPTURE(body.dump());
  REQUIRE(failing);
  CHECK(body["status"] == "stuck");
  CHECK(std::regex_match(body["handler_stuck_on"].get<std::string>(), std::regex(R"(stuck\.in\[\d+\]@0)")));
  gate.open();
  CHECK(testwait::wait_until([&] { return client.Get("/healthz")->status == 200; }, 10s));
  // It returned late: a transient timeout, then handled on its retry.
  CHECK(fixture.outputs(expected_outputs, 20s).size() == expected_outputs);
}

}  // namespace circuit_breaker_test
