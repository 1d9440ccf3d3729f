// Dead-letter writes that fail for a passing reason are sent again while the partition waits
// (never skipped) and counted; KAFKA_ERROR_TOPIC receives every business error with the
// dead-letter headers. On the embedded broker, in process.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "gate.hpp"
#include "kernel/testing.hpp"
#include "probe.hpp"
#include "wait.hpp"

namespace dead_letter_writes_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string> headers_of(const kernel::jsonl::Record& record) {
  return {record.headers.begin(), record.headers.end()};
}

double metric(const std::string& text, const std::string& name) {
  const std::regex sample("^" + name + R"( (\S+)$)", std::regex::multiline);
  std::smatch match;
  return std::regex_search(text, match, sample) ? std::stod(match[1]) : -1;
}

}  // namespace

TEST_CASE("dead letters: a write failing for a passing reason is sent again, not skipped, and counted") {
  testwait::Gate gate;
  kernel::KernelSpec spec;
  spec.name = "dlqwrite-kernel";
  spec.input_topics = {"dlqwrite.in"};
  spec.output_topic = "dlqwrite.out";
  spec.handler = [&](const kernel::Message&, kernel::Context&) {
    gate.pass();
    throw kernel::PermanentError("bad input");
  };
  // Idempotence off: under injected Produce errors the mock can have a batch it never stored
  // acknowledged (docs/operations.md, kernel-dev-broker).
  kernel::testing::KernelFixture fixture(spec, {{env_var::KAFKA_PRODUCER_IDEMPOTENCE, "false"},
                                                {"KAFKA_PROPERTY_RETRY_BACKOFF_MS", "10"},
                                                {env_var::KERNEL_RETRY_BACKOFF, "20ms"},
                                                {env_var::KERNEL_RETRY_JITTER, "0"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "dlqwrite-group"},
                                                {env_var::KERNEL_HTTP_PORT, "0"}});
  fixture.send({{"n", 1}}, "key-1");
  REQUIRE(gate.wait_for_arrival());
  // The only produce from now on is the dead letter: every Produce request fails for a while.
  std::vector<rd_kafka_resp_err_t> errors(12, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  rd_kafka_mock_push_request_errors_array(fixture.mock_cluster(), 0 /* Produce */, errors.size(), errors.data());
  gate.open();

  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(10s);
  double failures = 0;
  REQUIRE(testwait::wait_until(
      [&] {
        failures = metric(client.Get("/metrics")->body, "kernel_dead_letter_write_failures_total");
        return failures >= 1;
      },
      20s));
  const auto letters = fixture.dead_letters(1, 30s);
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].key == "key-1");
  CHECK(headers_of(letters[0]).at("dlq-failure-reason") == "processing_error");
  // Committed only once written, and written once.
  CHECK(testwait::wait_until(
      [&] {
        std::int64_t total = 0;
        for (const auto& [partition, offset] :
             probe::committed(fixture.bootstrap_servers(), "dlqwrite-group", "dlqwrite.in")) {
          total += offset > 0 ? offset : 0;
        }
        return total == 1;
      },
      20s));
  CHECK(fixture.read_topic("dlqwrite-kernel.dlq", 1, 1s).size() == 1);
}

TEST_CASE("KAFKA_ERROR_TOPIC receives every business error with the dead-letter headers") {
  kernel::KernelSpec spec;
  spec.name = "errtopic-kernel";
  spec.input_topics = {"errtopic.in"};
  spec.output_topic = "errtopic.out";
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    if (message.json()["refuse"] == true) throw kernel::BusinessError("credit limit exceeded");
    context.produce(kernel::Outgoing{}.json(message.json()));
  };
  kernel::testing::KernelFixture fixture(
      spec, {{env_var::KAFKA_ERROR_TOPIC, "errtopic.errors"}, {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"}});
  const std::string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  fixture.send({{"refuse", true}, {"n", 1}}, "refused",
               {{"trace", "t-1"}, {"traceparent", traceparent}, {"tracestate", "rojo=1"}});
  fixture.send({{"refuse", false}, {"n", 2}}, "accepted");
  CHECK(fixture.outputs(1, 20s).size() == 1);
  const auto errors = fixture.read_topic("errtopic.errors", 1, 20s);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].key == "refused");
  CHECK(nlohmann::json::parse(errors[0].value)["n"] == 1);
  const auto headers = headers_of(errors[0]);
  CHECK(headers.at("trace") == "t-1");
  CHECK(headers.at("dlq-error-class") == "business");
  CHECK(headers.at("dlq-error-type") == "kernel::BusinessError");
  CHECK(headers.at("dlq-error-message") == "credit limit exceeded");
  CHECK(headers.at("dlq-original-topic") == "errtopic.in");
  CHECK(headers.at("dlq-kernel") == "errtopic-kernel");
  CHECK(headers.count("dlq-failed-at") == 1);
  // The trace goes on: the input's trace id and flags, the handling's span, the tracestate kept.
  const auto& continued = headers.at("traceparent");
  CHECK(continued.substr(0, 36) == traceparent.substr(0, 36));
  CHECK(continued.substr(36, 16) != traceparent.substr(36, 16));
  CHECK(continued.ends_with("-01"));
  CHECK(headers.at("tracestate") == "rojo=1");
  CHECK(fixture.read_topic("errtopic-kernel.dlq", 0, 1s).empty());  // a business error is not dead-lettered
}

}  // namespace dead_letter_writes_test
