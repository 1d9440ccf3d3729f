// A handler's exception that quotes secrets, thrown down every failure path (in-place retries
// then a dead letter, retry topics, dead letters, the error topic, a batch handler, worker
// threads, the handler deadline, a fatal error): no secret value reaches any record on any
// topic, any log line (text or JSON), /admin/status or /metrics. Each case greps everything it
// can reach and reports how much it grepped.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include "kernel/kernel.hpp"
#include "kernel/middleware.hpp"
#include "kernel/testing.hpp"
#include "secret_search.hpp"

namespace secrets_in_failure_paths_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

// The kernel's own secret setting (API_KEY), and a runtime secret whose quote and backslash a
// JSON log line escapes.
const std::string api_key = "sup3rs3cretvalue";
const std::string admin_token = R"(adm"7d1e\99b04c)";
constexpr auto handler_timeout = 200ms;

/// What a careless client's exception says: the key it sent and the token it was given.
std::string quoting_secrets(const kernel::Context& context) {
  return "api key " + context.setting<std::string>("API_KEY") + " rejected, token " + admin_token;
}

/// Throws what the message's "fail" asks for, each quoting the secrets; else one output.
void fail_as_asked(const kernel::Message& message, kernel::Context& context) {
  const auto fail = message.json().value("fail", std::string());
  if (fail == "transient") throw kernel::TransientError(quoting_secrets(context), kernel::FailureReason::timeout);
  if (fail == "permanent") throw kernel::PermanentError(quoting_secrets(context));
  if (fail == "plain") throw std::runtime_error(quoting_secrets(context));
  if (fail == "business") throw kernel::BusinessError(quoting_secrets(context));
  if (fail == "fatal") throw kernel::FatalError(quoting_secrets(context));
  if (fail == "slow") {
    std::this_thread::sleep_for(2 * handler_timeout);  // simulated work past KERNEL_HANDLER_TIMEOUT
    throw kernel::TransientError(quoting_secrets(context));
  }
  context.produce(kernel::Outgoing{}.json({{"ok", true}}));
}

kernel::KernelSpec spec_of(const std::string& name) {
  kernel::KernelSpec spec;
  spec.name = name;
  spec.input_topics = {name + ".in"};
  spec.output_topic = name + ".out";
  spec.settings = {{.name = "API_KEY", .type = kernel::SettingType::string, .description = "key", .secret = true}};
  spec.middleware = {kernel::middleware::logging()};  // logs each failure with the exception's type and text
  spec.handler = fail_as_asked;
  return spec;
}

/// `prefix` is the kernel's name in upper case with underscores (its settings' prefix).
kernel::Environment environment_of(const std::string& name, const std::string& prefix,
                                   std::map<std::string, std::string> extra) {
  kernel::Environment environment{{prefix + "_API_KEY", api_key},
                                  {env_var::KERNEL_ADMIN_TOKEN, admin_token},
                                  {env_var::KERNEL_HTTP_PORT, "0"},
                                  {env_var::KERNEL_LOG_LEVEL, "debug"},
                                  {env_var::KERNEL_BREAKER_THRESHOLD, "0"},
                                  {env_var::KERNEL_RETRY_BACKOFF, "10ms"},
                                  {env_var::KAFKA_CONSUMER_MAX_RETRIES, "1"},
                                  {env_var::KAFKA_ERROR_TOPIC, name + ".errors"}};
  for (auto& [variable, value] : extra) environment[variable] = std::move(value);
  return environment;
}

/// /admin/status and /metrics while the kernel runs; then, once it stopped, every record on
/// every topic and every line it logged.
void grep_everything(secret_search::Search& search, kernel::testing::KernelFixture& fixture,
                     const secret_search::StderrCapture& log) {
  CHECK(search.endpoint(fixture.http_port(), "/admin/status"));
  CHECK(search.endpoint(fixture.http_port(), "/metrics"));
  fixture.stop();
  search.every_record(fixture.bootstrap_servers());
  search.every_line(log.lines());
  MESSAGE(search.summary());
  CHECK(search.log_lines() > 0);
  for (const auto& leak : search.leaks()) FAIL_CHECK("secret found in " << leak);
}

}  // namespace

TEST_CASE("no secret from an exception leaves the kernel: in place, on the loop thread, JSON logs") {
  secret_search::StderrCapture log;
  kernel::testing::KernelFixture fixture(
      spec_of("leak-inplace"), environment_of("leak-inplace", "LEAK_INPLACE", {{env_var::KERNEL_LOG_FORMAT, "json"}}));
  for (const auto* fail : {"transient", "permanent", "plain", "business", ""}) fixture.send({{"fail", fail}});
  const auto letters = fixture.dead_letters(3, 30s);
  REQUIRE(letters.size() == 3);
  for (const auto& letter : letters) {
    CHECK(letter.headers.get("dlq-error-message").value_or("").find("***") != std::string_view::npos);
  }
  REQUIRE(fixture.read_topic("leak-inplace.errors", 1, 30s).size() == 1);
  REQUIRE(fixture.outputs(1, 30s).size() == 1);
  secret_search::Search search({api_key, admin_token});
  // While it runs; grep_everything() asks again once the fatal error stopped the loop.
  CHECK(search.endpoint(fixture.http_port(), "/admin/status"));
  CHECK(search.endpoint(fixture.http_port(), "/metrics"));
  fixture.send({{"fail", "fatal"}});
  CHECK(fixture.wait_for_exit(30s) == 1);
  grep_everything(search, fixture, log);
  CHECK(search.records_on("leak-inplace.dlq") == 3);
  CHECK(search.records_on("leak-inplace.errors") == 1);
}

TEST_CASE("no secret from an exception leaves the kernel: retry topics carry retry-first-error masked") {
  secret_search::StderrCapture log;
  kernel::testing::KernelFixture fixture(
      spec_of("leak-retry"),
      environment_of("leak-retry", "LEAK_RETRY", {{env_var::KERNEL_RETRY_TOPICS, "100ms,100ms"}}));
  fixture.send({{"fail", "transient"}});
  fixture.send({{"fail", "permanent"}});
  REQUIRE(fixture.dead_letters(2, 30s).size() == 2);
  for (const auto* topic : {"leak-retry.retry.1", "leak-retry.retry.2"}) {
    const auto retried = fixture.read_topic(topic, 1, 10s);
    REQUIRE(retried.size() == 1);
    CHECK(std::string(retried[0].headers.get("retry-first-error").value_or("(none)")) ==
          "timeout: api key *** rejected, token ***");
  }
  secret_search::Search search({api_key, admin_token});
  grep_everything(search, fixture, log);
  CHECK(search.records_on("leak-retry.retry.1") == 1);
  CHECK(search.records_on("leak-retry.retry.2") == 1);
}

TEST_CASE("no secret from an exception leaves the kernel: a batch handler, one message or the whole batch") {
  secret_search::StderrCapture log;
  auto spec = spec_of("leak-batch");
  spec.middleware.clear();  // consumer middleware does not wrap batch calls
  spec.handler = {};
  spec.batch_handler = [](kernel::Batch& batch, kernel::Context& context) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto fail = batch[i].json().value("fail", std::string());
      if (fail == "whole") throw kernel::TransientError(quoting_secrets(context), kernel::FailureReason::timeout);
      if (fail == "transient") batch.fail(i, kernel::TransientError(quoting_secrets(context)));
      if (fail == "permanent") batch.fail(i, kernel::PermanentError(quoting_secrets(context)));
      if (fail == "business") batch.fail(i, kernel::BusinessError(quoting_secrets(context)));
      if (fail.empty()) batch.produce(i, kernel::Outgoing{}.json({{"ok", true}}));
    }
  };
  kernel::testing::KernelFixture fixture(
      spec, environment_of("leak-batch", "LEAK_BATCH",
                           {{env_var::KERNEL_BATCH_SIZE, "10"}, {env_var::KERNEL_BATCH_TIMEOUT, "50ms"}}));
  for (const auto* fail : {"transient", "permanent", "business", ""}) fixture.send({{"fail", fail}});
  REQUIRE(fixture.dead_letters(2, 30s).size() == 2);
  REQUIRE(fixture.outputs(1, 30s).size() == 1);
  fixture.send({{"fail", "whole"}});  // alone, once the others are done: only it fails with the batch
  REQUIRE(fixture.dead_letters(3, 30s).size() == 3);
  REQUIRE(fixture.read_topic("leak-batch.errors", 1, 30s).size() == 1);
  secret_search::Search search({api_key, admin_token});
  grep_everything(search, fixture, log);
}

TEST_CASE("no secret from an exception leaves the kernel: worker threads and the handler deadline, JSON logs") {
  secret_search::StderrCapture log;
  kernel::testing::KernelFixture fixture(
      spec_of("leak-workers"),
      environment_of("leak-workers", "LEAK_WORKERS",
                     {{env_var::KERNEL_CONCURRENCY, "2"},
                      {env_var::KERNEL_HANDLER_TIMEOUT, std::to_string(handler_timeout.count()) + "ms"},
                      {env_var::KERNEL_LOG_FORMAT, "json"}}));
  for (const auto* fail : {"transient", "permanent", "business", "slow", ""}) fixture.send({{"fail", fail}});
  const auto letters = fixture.dead_letters(3, 30s);
  REQUIRE(letters.size() == 3);
  REQUIRE(fixture.read_topic("leak-workers.errors", 1, 30s).size() == 1);
  REQUIRE(fixture.outputs(1, 30s).size() == 1);
  secret_search::Search search({api_key, admin_token});
  grep_everything(search, fixture, log);
}

}  // namespace secrets_in_failure_paths_test
