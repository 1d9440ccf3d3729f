// The metrics a dashboard selects a kernel by and breaks failures down with: kernel_info names
// the kernel (Prometheus' own labels, job and instance, say only where it was scraped), and
// kernel_dead_letters_total and kernel_retries_total count by the reason a dead letter carries
// in dlq-failure-reason.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <string>

#include <httplib.h>

#include "kernel/testing.hpp"
#include "wait.hpp"

namespace dashboard_metrics_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

/// The value of `name{labels}` in a /metrics text, labels written as the exposition sorts them
/// (-1 when absent).
double sample(const std::string& text, const std::string& name, const std::string& labels) {
  for (std::size_t at = text.find(name + "{" + labels + "} "); at != std::string::npos;
       at = text.find(name + "{" + labels + "} ", at + 1)) {
    if (at != 0 && text[at - 1] != '\n') continue;  // a longer name ending in this one
    return std::stod(text.substr(at + name.size() + labels.size() + 3));
  }
  return -1;
}

double dead_letters(const std::string& text, const std::string& reason, const std::string& topic) {
  return sample(text, "kernel_dead_letters_total", "reason=\"" + reason + "\",topic=\"" + topic + "\"");
}

double retries(const std::string& text, const std::string& reason, const std::string& topic) {
  return sample(text, "kernel_retries_total", "reason=\"" + reason + "\",topic=\"" + topic + "\"");
}

}  // namespace

TEST_CASE("kernel_info names the kernel and its version, for dashboards to select it by") {
  kernel::KernelSpec spec;
  spec.name = "info-kernel";
  spec.version = "2.3.4";
  spec.input_topics = {"info-kernel.in"};
  spec.handler = [](const kernel::Message&, kernel::Context&) {};
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_HTTP_PORT, "0"}});
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(10s);
  const auto text = client.Get("/metrics")->body;
  CAPTURE(text);
  CHECK(sample(text, "kernel_info", "kernel=\"info-kernel\",version=\"2.3.4\"") == 1);
}

TEST_CASE("dead letters are counted by their dlq-failure-reason") {
  kernel::KernelSpec spec;
  spec.name = "reasons-dead";
  spec.input_topics = {"reasons-dead.in"};
  spec.handler = [](const kernel::Message& message, kernel::Context&) {
    const auto document = message.json();  // not JSON: deserialization_error
    if (document.value("invalid", false))
      throw kernel::PermanentError("no id", kernel::FailureReason::validation_error);
    throw kernel::TransientError("dependency unavailable");  // retries_exhausted
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KAFKA_CONSUMER_MAX_RETRIES, "1"},
                                                {env_var::KERNEL_RETRY_BACKOFF, "10ms"},
                                                {env_var::KERNEL_BREAKER_THRESHOLD, "0"},
                                                {env_var::KERNEL_HTTP_PORT, "0"}});
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(10s);
  fixture.send_raw("not json", "a");
  fixture.send({{"invalid", true}}, "b");
  fixture.send({{"invalid", true}}, "c");
  fixture.send({{"n", 1}}, "d");
  REQUIRE(fixture.dead_letters(4, 20s).size() == 4);
  std::string text;
  const bool counted = testwait::wait_until(
      [&] {
        text = client.Get("/metrics")->body;
        return dead_letters(text, "retries_exhausted", "reasons-dead.in") == 1;
      },
      10s);
  CAPTURE(text);
  REQUIRE(counted);
  CHECK(dead_letters(text, "deserialization_error", "reasons-dead.in") == 1);
  CHECK(dead_letters(text, "validation_error", "reasons-dead.in") == 2);
  // Every reason is there from the start, at 0, so a rate over it has a beginning.
  CHECK(dead_letters(text, "timeout", "reasons-dead.in") == 0);
  CHECK(dead_letters(text, "output_failed", "reasons-dead.in") == 0);
}

TEST_CASE("retries are counted by the reason of the failure retried, and add up to the retried outcome") {
  kernel::KernelSpec spec;
  spec.name = "reasons-retried";
  spec.input_topics = {"reasons-retried.in"};
  spec.output_topic = "reasons-retried.out";
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    const auto document = message.json();
    if (context.attempt() <= document.value("failures", 0)) {
      if (document.value("slow", false)) throw kernel::TransientError("took 5 s", kernel::FailureReason::timeout);
      throw kernel::TransientError("dependency unavailable");
    }
    context.produce(kernel::Outgoing{}.json(document));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_RETRY_BACKOFF, "10ms"},
                                                {env_var::KERNEL_BREAKER_THRESHOLD, "0"},
                                                {env_var::KERNEL_HTTP_PORT, "0"}});
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(10s);
  fixture.send({{"failures", 2}, {"slow", true}}, "a");
  fixture.send({{"failures", 1}}, "b");
  REQUIRE(fixture.outputs(2, 20s).size() == 2);
  std::string text;
  const bool counted = testwait::wait_until(
      [&] {
        text = client.Get("/metrics")->body;
        return retries(text, "timeout", "reasons-retried.in") == 2;
      },
      10s);
  CAPTURE(text);
  REQUIRE(counted);
  CHECK(retries(text, "processing_error", "reasons-retried.in") == 1);
  CHECK(sample(text, "kernel_messages_handled_total", "outcome=\"retried\",topic=\"reasons-retried.in\"") == 3);
  CHECK(dead_letters(text, "retries_exhausted", "reasons-retried.in") == 0);
}

}  // namespace dashboard_metrics_test
