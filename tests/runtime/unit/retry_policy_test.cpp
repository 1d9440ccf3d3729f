// The retry policy: KERNEL_RETRY_TOPICS parsing and checks, code defaults the environment
// overrides, retry_after(), the delay before an in-place retry, retry-topic names and the
// retry headers' rules.
#include <doctest/doctest.h>

#include <chrono>

#include "config/pipeline_naming.hpp"
#include "config/settings.hpp"
#include "core/rfc3339.hpp"
#include "kernel/outcome.hpp"
#include "kernel/spec.hpp"
#include "kernel/testing.hpp"
#include "loop/retry_policy.hpp"
#include "loop/retry_topics.hpp"
#include "run/kernel_defaults.hpp"

#include "config_problems.hpp"

namespace retry_policy_test {

using namespace kernel;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path no_dotenv = "/nonexistent-dir/.env";

Config load(Environment env, const KernelSpec& spec = {}) {
  env.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092");
  auto defaults = detail::defaults_of(spec);
  if (defaults.name.empty()) defaults.name = "orders-enricher";
  if (defaults.input_topics.empty()) defaults.input_topics = {"orders"};
  return Config::load(defaults, env, RunMode::production, no_dotenv);
}

std::string only_problem(Environment env) {
  return config_problems::only_problem_from([&] { load(std::move(env)); });
}

}  // namespace

TEST_CASE("KERNEL_RETRY_TOPICS reads comma-separated delays") {
  const auto config = load({{env_var::KERNEL_RETRY_TOPICS, "1s, 10s,1m"}});
  CHECK(config.settings().retry_topics == std::vector<std::chrono::milliseconds>{1s, 10s, 1min});
  CHECK(load({}).settings().retry_topics.empty());
  SUBCASE("equal delays are allowed") {
    CHECK(load({{env_var::KERNEL_RETRY_TOPICS, "5s,5s"}}).settings().retry_topics.size() == 2);
  }
}

TEST_CASE("KERNEL_RETRY_TOPICS refuses bad delays with one line naming the fix") {
  SUBCASE("decreasing") {
    const auto problem = only_problem({{env_var::KERNEL_RETRY_TOPICS, "10s,1s"}});
    CHECK(problem.find(env_var::KERNEL_RETRY_TOPICS) != std::string::npos);
    CHECK(problem.find("non-decreasing") != std::string::npos);
  }
  SUBCASE("zero") {
    const auto problem = only_problem({{env_var::KERNEL_RETRY_TOPICS, "0s,1s"}});
    CHECK(problem.find("above 0") != std::string::npos);
  }
  SUBCASE("no unit") {
    CHECK(only_problem({{env_var::KERNEL_RETRY_TOPICS, "1s,10"}}).find(env_var::KERNEL_RETRY_TOPICS) !=
          std::string::npos);
  }
  SUBCASE("an empty item") {
    CHECK(only_problem({{env_var::KERNEL_RETRY_TOPICS, "1s,,10s"}}).find(env_var::KERNEL_RETRY_TOPICS) !=
          std::string::npos);
  }
}

TEST_CASE("the retry policy in code is a default the environment overrides") {
  KernelSpec spec;
  spec.name = "orders-enricher";
  spec.input_topics = {"orders"};
  spec.retry.max_retries = 7;
  spec.retry.backoff = 2s;
  spec.retry.backoff_max = 1min;
  spec.retry.multiplier = 1.5;
  spec.retry.jitter = 0.0;
  spec.retry.topics = {1s, 30s};
  const auto from_code = load({}, spec);
  const auto& s = from_code.settings();
  CHECK(s.max_retries == 7);
  CHECK(s.retry_backoff == 2s);
  CHECK(s.retry_backoff_max == 1min);
  CHECK(s.retry_multiplier == doctest::Approx(1.5));
  CHECK(s.retry_jitter == doctest::Approx(0.0));
  CHECK(s.retry_topics == std::vector<std::chrono::milliseconds>{1s, 30s});
  CHECK(from_code.source_of(env_var::KERNEL_RETRY_BACKOFF) == "code");

  const auto overridden = load({{env_var::KERNEL_RETRY_BACKOFF, "300ms"},
                                {env_var::KAFKA_CONSUMER_MAX_RETRIES, "1"},
                                {env_var::KERNEL_RETRY_TOPICS, "5s"}},
                               spec);
  CHECK(overridden.settings().retry_backoff == 300ms);
  CHECK(overridden.settings().max_retries == 1);
  CHECK(overridden.settings().retry_topics == std::vector<std::chrono::milliseconds>{5s});
  CHECK(overridden.source_of(env_var::KERNEL_RETRY_BACKOFF) == "env");
  CHECK(overridden.settings().retry_multiplier == doctest::Approx(1.5));  // still the code's
}

TEST_CASE("retry topics in code are checked like the variable") {
  KernelSpec spec;
  spec.retry.topics = {10s, 1s};
  CHECK_THROWS_AS(load({}, spec), ConfigError);
}

TEST_CASE("retry topics are named <prefix><kernel>.retry.<n>") {
  const auto plain = load({{env_var::KERNEL_RETRY_TOPICS, "1s,2s"}});
  CHECK(retry_topic(plain.settings(), 1) == "orders-enricher.retry.1");
  CHECK(retry_topic(plain.settings(), 2) == "orders-enricher.retry.2");
  const auto prefixed = load({{env_var::KERNEL_RETRY_TOPICS, "1s"}, {env_var::KAFKA_TOPIC_PREFIX, "staging."}});
  CHECK(retry_topic(prefixed.settings(), 1) == "staging.orders-enricher.retry.1");
}

TEST_CASE("TransientError::retry_after() carries its delay into the Outcome") {
  auto handler = [](const Message&, Context&) { throw TransientError("429 too many requests").retry_after(30s); };
  testing::TestContext context;
  const auto outcome = testing::call(handler, testing::make_raw_message("x"), context);
  CHECK(outcome.kind == Outcome::Kind::transient);
  REQUIRE(outcome.retry_after);
  CHECK(*outcome.retry_after == 30s);
  SUBCASE("without it, no delay is asked for") {
    auto plain = [](const Message&, Context&) { throw TransientError("down"); };
    CHECK_FALSE(testing::call(plain, testing::make_raw_message("x"), context).retry_after);
  }
}

TEST_CASE("the delay before an in-place retry: the handler's retry_after within the cap, else the backoff") {
  const detail::Backoff backoff{100ms, 1s, 2.0, 0.0};
  constexpr double draw = 0.3;  // no jitter: any draw
  CHECK(backoff.delay_after(std::nullopt, 1, draw) == 100ms);
  CHECK(backoff.delay_after(std::nullopt, 3, draw) == 400ms);
  CHECK(backoff.delay_after(std::nullopt, 10, draw) == 1s);  // the cap
  CHECK(backoff.delay_after(250ms, 1, draw) == 250ms);
  CHECK(backoff.delay_after(250ms, 5, draw) == 250ms);  // not the backoff's 1 s
  CHECK(backoff.delay_after(30s, 1, draw) == 1s);
  CHECK(backoff.delay_after(-5ms, 1, draw) == 0ms);
}

TEST_CASE("the backoff's jitter is placed by the draw it is given, within the cap") {
  const detail::Backoff backoff{100ms, 1s, 2.0, 0.2};
  CHECK(backoff.delay(1, 0.0) == 80ms);  // 1 - jitter
  CHECK(backoff.delay(1, 0.5) == 100ms);
  CHECK(backoff.delay(1, 0.75) == 110ms);
  CHECK(backoff.delay(2, 0.0) == 160ms);
  CHECK(backoff.delay(10, 0.99) == 1s);  // jittered above the cap: the cap
  CHECK(backoff.delay(10, 0.0) == 800ms);
  SUBCASE("no jitter: the draw does not matter") {
    const detail::Backoff plain{100ms, 1s, 2.0, 0.0};
    CHECK(plain.delay(3, 0.0) == 400ms);
    CHECK(plain.delay(3, 0.99) == 400ms);
  }
}

TEST_CASE("only retry-* headers other than retry-count are retry bookkeeping") {
  CHECK(detail::is_retry_bookkeeping("retry-original-topic"));
  CHECK(detail::is_retry_bookkeeping("retry-due-at"));
  CHECK(detail::is_retry_bookkeeping("retry-attempt"));
  CHECK_FALSE(detail::is_retry_bookkeeping("retry-count"));
  CHECK_FALSE(detail::is_retry_bookkeeping("dlq-retry-count"));
  CHECK_FALSE(detail::is_retry_bookkeeping("event-id"));
}

TEST_CASE("retry-due-at is read back as the RFC 3339 the kernel writes") {
  const std::int64_t ms = 1795403378123;  // 2026-11-23T03:09:38.123Z
  CHECK(detail::parse_rfc3339_ms(detail::format_rfc3339(ms)) == ms);
  CHECK(detail::parse_rfc3339_ms("1970-01-01T00:00:00.000Z") == 0);
  CHECK_FALSE(detail::parse_rfc3339_ms("2026-11-23T03:09:38Z"));
  CHECK_FALSE(detail::parse_rfc3339_ms("2026-02-30T03:09:38.123Z"));
  CHECK_FALSE(detail::parse_rfc3339_ms("tomorrow"));
}

TEST_CASE("a retry record's origin is its retry-original-* headers, else its own coordinates") {
  const auto own = testing::make_raw_message("v", std::nullopt, {}, "orders", 2, 41);
  const auto origin = detail::retry_origin_of(own);
  CHECK(origin.topic == "orders");
  CHECK(origin.partition == "2");
  CHECK(origin.offset == "41");
  Headers headers;
  headers.add("retry-original-topic", "orders");
  headers.add("retry-original-partition", "3");
  headers.add("retry-original-offset", "17");
  headers.add("retry-original-timestamp", "2026-11-23T03:09:38.123Z");
  const auto retried = testing::make_raw_message("v", std::nullopt, headers, "orders-enricher.retry.1", 0, 5);
  const auto from_headers = detail::retry_origin_of(retried);
  CHECK(from_headers.topic == "orders");
  CHECK(from_headers.partition == "3");
  CHECK(from_headers.offset == "17");
  CHECK(from_headers.timestamp == "2026-11-23T03:09:38.123Z");
}

}  // namespace retry_policy_test
