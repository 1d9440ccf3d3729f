// kernel_messages_handled_total counts what the loop did with each attempt, not what the
// attempt number alone would suggest: a failure held by the open circuit breaker (or a failed
// probe) spends no retry and is not dead-lettered, so it counts as `retried`; a failure moved
// to a retry topic is `retried` whatever KAFKA_CONSUMER_MAX_RETRIES says (it is ignored then).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <string>

#include <httplib.h>

#include "kernel/testing.hpp"
#include "wait.hpp"

namespace handled_metrics_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

/// kernel_messages_handled_total{outcome, topic} in a /metrics text (-1 when absent).
double handled(const std::string& text, const std::string& outcome, const std::string& topic) {
  const std::regex sample("^kernel_messages_handled_total\\{outcome=\"" + outcome + "\",topic=\"" +
                              std::regex_replace(topic, std::regex(R"(\.)"), R"(\.)") + R"("\} (\S+)$)",
                          std::regex::multiline);
  std::smatch match;
  return std::regex_search(text, match, sample) ? std::stod(match[1]) : -1;
}

}  // namespace

TEST_CASE("handled metric: failures held by the open breaker and failed probes are retried, not dead_lettered") {
  std::atomic<bool> outage{true};
  std::atomic<int> failed_calls{0};
  kernel::KernelSpec spec;
  spec.name = "handled-breaker";
  spec.input_topics = {"handled-breaker.in"};
  spec.output_topic = "handled-breaker.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    if (outage.load()) {
      ++failed_calls;
      throw std::runtime_error("connection refused");
    }
    context.produce(kernel::Outgoing{}.json(message.json()));
  };
  // One retry, and the circuit opens on the second consecutive failure: the message's second
  // attempt opens it, so that attempt and every failed probe after it are past the message's
  // retry budget yet dead-letter nothing.
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_BREAKER_THRESHOLD, "2"},
                                                {env_var::KERNEL_BREAKER_COOLDOWN, "50ms"},
                                                {env_var::KERNEL_BREAKER_COOLDOWN_MAX, "100ms"},
                                                {env_var::KAFKA_CONSUMER_MAX_RETRIES, "1"},
                                                {env_var::KERNEL_RETRY_BACKOFF, "10ms"},
                                                {env_var::KERNEL_RETRY_JITTER, "0"},
                                                {env_var::KERNEL_HTTP_PORT, "0"}});
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(10s);
  fixture.send({{"n", 1}}, "only");
  // The opening failure and at least two failed probes.
  REQUIRE(testwait::wait_until([&] { return failed_calls.load() >= 4; }, 20s));
  outage = false;
  REQUIRE(fixture.outputs(1, 20s).size() == 1);
  CHECK(fixture.read_topic("handled-breaker.dlq", 0, 500ms).empty());
  std::string text;
  const bool counted = testwait::wait_until(
      [&] {
        text = client.Get("/metrics")->body;
        return handled(text, "success", "handled-breaker.in") == 1;
      },
      10s);
  CAPTURE(text);
  REQUIRE(counted);
  CHECK(handled(text, "dead_lettered", "handled-breaker.in") == 0);
  CHECK(handled(text, "retried", "handled-breaker.in") == failed_calls.load());
}

TEST_CASE("handled metric: a failure moved to a retry topic is retried, whatever KAFKA_CONSUMER_MAX_RETRIES says") {
  kernel::KernelSpec spec;
  spec.name = "handled-topics";
  spec.input_topics = {"handled-topics.in"};
  spec.output_topic = "handled-topics.out";
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    if (context.attempt() == 1) throw kernel::TransientError("dependency unavailable");
    context.produce(kernel::Outgoing{}.json(message.json()));
  };
  kernel::testing::KernelFixture fixture(spec,
                                         {{env_var::KERNEL_RETRY_TOPICS, "20ms"},
                                          {env_var::KAFKA_CONSUMER_MAX_RETRIES, "0"},  // ignored with retry topics
                                          {env_var::KERNEL_BREAKER_THRESHOLD, "0"},
                                          {env_var::KERNEL_HTTP_PORT, "0"}});
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(10s);
  fixture.send({{"n", 1}}, "once");
  REQUIRE(fixture.outputs(1, 20s).size() == 1);
  std::string text;
  const bool counted = testwait::wait_until(
      [&] {
        text = client.Get("/metrics")->body;
        return handled(text, "success", "handled-topics.retry.1") == 1;
      },
      10s);
  CAPTURE(text);
  REQUIRE(counted);
  CHECK(handled(text, "retried", "handled-topics.in") == 1);
  CHECK(handled(text, "dead_lettered", "handled-topics.in") == 0);
}

}  // namespace handled_metrics_test
