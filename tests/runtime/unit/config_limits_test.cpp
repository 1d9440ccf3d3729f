// Values that librdkafka or Kafka would misread rather than refuse: numbers beyond a 32-bit
// property, brokers with ports that are no ports, prefixes that make topic names too long,
// pass-through variables without a property name, durations of zero or less. Each is refused
// in one line naming the variable and what it accepts.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "config/registry.hpp"
#include "config/settings.hpp"

namespace config_limits_test {

using namespace kernel;

namespace {

const KernelDefaults orders{"orders-enricher", {"orders"}, std::string("orders.enriched")};

std::vector<std::string> problems_of(Environment env, const KernelDefaults& kernel = orders) {
  env.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092");
  try {
    Config::load(kernel, env, RunMode::production, "/nonexistent-dir/.env");
  } catch (const ConfigError& error) {
    return error.problems();
  }
  return {};
}

std::string only_problem(Environment env, const KernelDefaults& kernel = orders) {
  const auto problems = problems_of(std::move(env), kernel);
  REQUIRE_MESSAGE(problems.size() == 1, problems.size());
  return problems.front();
}

KernelDefaults batch_kernel() {
  auto kernel = orders;
  kernel.batch_handler = true;
  return kernel;
}

}  // namespace

TEST_CASE("config limits: sizes beyond librdkafka's 32-bit properties are refused with the range") {
  SUBCASE("a size that would wrap") {
    CHECK(only_problem({{env_var::KAFKA_CONSUMER_MAX_BYTES, "99999999999MB"}}) ==
          "config error: KAFKA_CONSUMER_MAX_BYTES=\"99999999999MB\": too large for fetch.max.bytes, "
          "which takes 0 to 2147483135 bytes");
  }
  SUBCASE("exactly 2^32 more than a valid value") {
    CHECK(only_problem({{env_var::KAFKA_CONSUMER_MAX_BYTES, "4305000000"}}).find("0 to 2147483135 bytes") !=
          std::string::npos);
  }
  SUBCASE("a pass-through number that would wrap to 1") {
    CHECK(only_problem({{"KAFKA_PROPERTY_QUEUED_MAX_MESSAGES_KBYTES", "4294967297"}}) ==
          "config error: KAFKA_PROPERTY_QUEUED_MAX_MESSAGES_KBYTES=\"4294967297\": too large for "
          "queued.max.messages.kbytes, which takes 1 to 2097151");
  }
  SUBCASE("the largest value librdkafka takes is accepted") {
    CHECK(problems_of({{env_var::KAFKA_CONSUMER_MAX_BYTES, "2147483135"}}).empty());
  }
}

TEST_CASE("config limits: brokers need a port from 1 to 65535") {
  for (const auto* servers : {"broker:99999", "broker:abc", "broker:0", "b1:9092,broker:", ":9092", "[::1]:70000"}) {
    CAPTURE(servers);
    const auto problem = only_problem({{env_var::KAFKA_BOOTSTRAP_SERVERS, servers}});
    CHECK(problem.starts_with("config error: KAFKA_BOOTSTRAP_SERVERS=\"" + std::string(servers) + "\": "));
    CHECK(problem.find("1 to 65535") != std::string::npos);
  }
  for (const auto* servers :
       {"broker:9092", "b1:9092,b2:9093", "broker", "[::1]:9092", "SSL://broker:9093", "10.0.0.1:1"}) {
    CAPTURE(servers);
    CHECK(problems_of({{env_var::KAFKA_BOOTSTRAP_SERVERS, servers}}).empty());
  }
}

TEST_CASE("config limits: a prefix that makes a topic name too long is the prefix's problem") {
  const std::string prefix(240, 'p');
  const auto problem = only_problem({{env_var::KAFKA_TOPIC_PREFIX, prefix}});
  CHECK(problem.starts_with("config error: KAFKA_TOPIC_PREFIX=\"ppp"));
  // The longest name it is prepended to is orders-enricher.dlq (19 characters).
  CHECK(problem.find("orders-enricher.dlq") != std::string::npos);
  CHECK(problem.find("expected at most 230 characters") != std::string::npos);
  CHECK(problems_of({{env_var::KAFKA_TOPIC_PREFIX, std::string(230, 'p')}}).empty());
  // A name too long by itself stays its own variable's problem.
  CHECK(only_problem({{env_var::KAFKA_TOPIC, std::string(250, 't')}}).starts_with("config error: KAFKA_TOPIC="));
}

TEST_CASE("config limits: a pass-through variable must name a property") {
  CHECK(only_problem({{env_var::KAFKA_PROPERTY_PREFIX, "1"}}) ==
        "config error: KAFKA_PROPERTY_=\"1\": names no librdkafka property; expected "
        "KAFKA_PROPERTY_<NAME>, e.g. KAFKA_PROPERTY_SOCKET_TIMEOUT_MS");
}

TEST_CASE("config limits: a duration of 0 is refused unless the variable says what 0 means; below 0 always") {
  for (const auto& spec : config_registry()) {
    // A variable of durations reads 1s and refuses a word: durations, retry-topic delays, the
    // dedup window (its age).
    Settings scratch;
    if (!spec.read("1s", scratch).empty() || spec.read("soon", scratch).empty()) continue;
    CAPTURE(spec.name);
    const auto names_it = [&](const std::string& line, const std::string& value) {
      return line.starts_with("config error: " + spec.name + "=\"" + value + "\": ") &&
             line.find('\n') == std::string::npos;
    };
    for (const std::string zero : {"0s", "0ms"}) {
      CAPTURE(zero);
      const auto problems = problems_of({{spec.name, zero}});
      if (problems.empty()) {
        // Accepted: then it means something, and the description (docs/configuration.md) says what.
        CHECK_MESSAGE(spec.description.find("; 0 ") != std::string::npos,
                      "0 is accepted but the description does not say what it means");
      } else {
        CHECK(std::any_of(problems.begin(), problems.end(),
                          [&](const std::string& line) { return names_it(line, zero); }));
      }
    }
    const auto negative = problems_of({{spec.name, "-1s"}});
    REQUIRE(negative.size() == 1);
    CHECK(names_it(negative.front(), "-1s"));
  }
}

TEST_CASE("config limits: an optional setting checks a value as its type does when set") {
  CHECK(only_problem({{env_var::KERNEL_HANDLER_TIMEOUT, "0s"}}) ==
        "config error: KERNEL_HANDLER_TIMEOUT=\"0s\": expected a duration above 0, or unset");
  CHECK(problems_of({{env_var::KERNEL_HANDLER_TIMEOUT, "1ms"}}).empty());
  CHECK(problems_of({{env_var::KERNEL_HANDLER_TIMEOUT, ""}}).empty());  // empty is unset: no deadline
}

TEST_CASE("config limits: a batch kernel runs no worker threads") {
  CHECK(only_problem({{env_var::KERNEL_CONCURRENCY, "4"}}, batch_kernel()) ==
        "config error: KERNEL_CONCURRENCY=\"4\": a batch_handler is called one batch at a time on the loop thread; "
        "unset KERNEL_CONCURRENCY (or set it to 1) for a batch kernel");
  CHECK(problems_of({{env_var::KERNEL_CONCURRENCY, "1"}}, batch_kernel()).empty());
  CHECK(problems_of({{env_var::KERNEL_CONCURRENCY, "4"}}).empty());  // a single-message kernel
}

TEST_CASE("config limits: a batch kernel's batches fit the in-flight bound, naming both variables") {
  CHECK(only_problem({{env_var::KERNEL_BATCH_SIZE, "600"}}, batch_kernel()) ==
        "config error: KERNEL_BATCH_SIZE=\"600\": must not exceed KAFKA_MAX_POLL_RECORDS (500); lower "
        "KERNEL_BATCH_SIZE or raise KAFKA_MAX_POLL_RECORDS");
  CHECK(problems_of({{env_var::KERNEL_BATCH_SIZE, "600"}, {env_var::KAFKA_MAX_POLL_RECORDS, "600"}}, batch_kernel())
            .empty());
  CHECK(problems_of({{env_var::KERNEL_BATCH_SIZE, "600"}}).empty());  // unused by a single-message kernel
}

TEST_CASE("config limits: all problems at once, secrets hidden") {
  const auto problems = problems_of({{env_var::KAFKA_CONSUMER_MAX_BYTES, "99999999999MB"},
                                     {env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:abc"},
                                     {env_var::KAFKA_PROPERTY_PREFIX, "1"},
                                     {env_var::KAFKA_TOPIC_PREFIX, std::string(240, 'p')},
                                     {"KAFKA_PROPERTY_SASL_PASSWORD", "hunter2-secret"}});
  CHECK(problems.size() == 5);
  for (const auto& line : problems) {
    CHECK(line.starts_with("config error: "));
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.find("hunter2-secret") == std::string::npos);
  }
}

}  // namespace config_limits_test
