// Retry policy on the embedded broker: a handler's retry_after() in place; attempt numbers and
// retry-count in place and through retry topics (KERNEL_RETRY_TOPICS); retry records' headers
// never reaching outputs or dead letters; dead letters after the last retry topic with the
// original coordinates; nothing behind a failing message waits; and the input committed only
// once its retry record is acknowledged.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "broker/record_io.hpp"
#include "kernel/testing.hpp"
#include "probe.hpp"
#include "wait.hpp"

namespace retry_topics_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::map<std::string, std::string> header_map(const kernel::jsonl::Record& record) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : record.headers.entries()) out[name] = value;
  return out;
}

long long total(const std::map<int, long long>& per_partition) {
  long long sum = 0;
  for (const auto& [partition, value] : per_partition) sum += std::max(0LL, value);
  return sum;
}

/// Every handler call: the topic it ran from and context.attempt().
struct Calls {
  std::mutex mutex;
  std::vector<std::pair<std::string, int>> seen;
  void add(std::string_view topic, int attempt) {
    std::lock_guard lock(mutex);
    seen.emplace_back(std::string(topic), attempt);
  }
  std::vector<std::pair<std::string, int>> copy() {
    std::lock_guard lock(mutex);
    return seen;
  }
};

}  // namespace

TEST_CASE("a handler's retry_after() sets the in-place delay, capped at KERNEL_RETRY_BACKOFF_MAX") {
  std::mutex mutex;
  std::vector<Clock::time_point> attempts;
  std::atomic<int> asked_ms{1500};
  kernel::KernelSpec spec;
  spec.name = "after-kernel";
  spec.input_topics = {"after.in"};
  spec.output_topic = "after.out";
  spec.handler = [&](const kernel::Message&, kernel::Context& context) {
    {
      std::lock_guard lock(mutex);
      attempts.push_back(Clock::now());
    }
    if (context.attempt() == 1) {
      throw kernel::TransientError("rate limited").retry_after(std::chrono::milliseconds(asked_ms.load()));
    }
    context.produce(kernel::Outgoing{}.json({{"ok", true}}));
  };
  auto gap_of_first_retry = [&](kernel::testing::KernelFixture& fixture) {
    fixture.send({{"n", 1}});
    REQUIRE(fixture.outputs(1, 30s).size() == 1);
    std::lock_guard lock(mutex);
    REQUIRE(attempts.size() == 2);
    return attempts[1] - attempts[0];
  };
  SUBCASE("honoured over a short backoff") {
    kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_RETRY_BACKOFF, "50ms"},
                                                  {env_var::KERNEL_RETRY_JITTER, "0"},
                                                  {env_var::KERNEL_RETRY_BACKOFF_MAX, "30s"}});
    CHECK(gap_of_first_retry(fixture) >= 1500ms);
  }
  SUBCASE("capped") {
    asked_ms = 3600000;  // an hour
    kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_RETRY_BACKOFF, "50ms"},
                                                  {env_var::KERNEL_RETRY_JITTER, "0"},
                                                  {env_var::KERNEL_RETRY_BACKOFF_MAX, "300ms"}});
    const auto gap = gap_of_first_retry(fixture);
    CHECK(gap >= 300ms);
    CHECK(gap < 10s);
  }
}

TEST_CASE("in place, context.attempt() counts up and the output's retry-count says how many retries") {
  Calls calls;
  kernel::KernelSpec spec;
  spec.name = "inplace-kernel";
  spec.input_topics = {"inplace.in"};
  spec.output_topic = "inplace.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    calls.add(message.topic(), context.attempt());
    if (context.attempt() < 3) throw kernel::TransientError("busy");
    context.produce(kernel::Outgoing{}.json({{"ok", true}}));
  };
  kernel::testing::KernelFixture fixture(
      spec, {{env_var::KERNEL_RETRY_BACKOFF, "50ms"}, {env_var::KERNEL_RETRY_JITTER, "0"}});
  fixture.send({{"n", 1}});
  const auto outputs = fixture.outputs(1, 30s);
  REQUIRE(outputs.size() == 1);
  CHECK(header_map(outputs[0])["retry-count"] == "2");
  CHECK(calls.copy() ==
        std::vector<std::pair<std::string, int>>{{"inplace.in", 1}, {"inplace.in", 2}, {"inplace.in", 3}});
}

TEST_CASE("through retry topics: attempt n+1 runs from .retry.n and one clean output comes out") {
  Calls calls;
  kernel::KernelSpec spec;
  spec.name = "rt-kernel";
  spec.input_topics = {"rt.in"};
  spec.output_topic = "rt.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    calls.add(message.topic(), context.attempt());
    if (context.attempt() < 3) throw kernel::TransientError("dependency down");
    // A handler that copies every input header: the retry bookkeeping must still not leak.
    kernel::Outgoing out;
    for (const auto& [name, value] : message.headers().entries()) out.header(name, value);
    context.produce(std::move(out).json({{"ok", true}}));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_RETRY_TOPICS, "200ms,200ms,200ms"},
                                                {env_var::KAFKA_CONSUMER_MAX_RETRIES, "9"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "rt-group"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"}});
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736", parent_id = "00f067aa0ba902b7";
  fixture.send({{"n", 1}}, "k1",
               kernel::Headers{}.add("trace", "t-1").add("traceparent", "00-" + trace_id + "-" + parent_id + "-01"));
  const auto outputs = fixture.outputs(1, 30s);
  REQUIRE(outputs.size() == 1);
  auto headers = header_map(outputs[0]);
  CHECK(headers["retry-count"] == "2");
  CHECK(headers["trace"] == "t-1");
  for (const auto& [name, value] : outputs[0].headers.entries()) {
    CHECK_MESSAGE(!(name.starts_with("retry-") && name != "retry-count"), "leaked header " << name);
  }
  CHECK(calls.copy() ==
        std::vector<std::pair<std::string, int>>{{"rt.in", 1}, {"rt-kernel.retry.1", 2}, {"rt-kernel.retry.2", 3}});
  const auto& servers = fixture.bootstrap_servers();
  // Exactly one output, and each retry topic used once (.retry.3 never).
  REQUIRE(testwait::wait_until([&] { return total(probe::committed(servers, "rt-group", "rt-kernel.retry.2")) == 1; },
                               20s));
  CHECK(total(probe::high_watermarks(servers, "rt.out")) == 1);
  CHECK(total(probe::high_watermarks(servers, "rt-kernel.retry.1")) == 1);
  CHECK(total(probe::high_watermarks(servers, "rt-kernel.retry.2")) == 1);
  CHECK(total(probe::high_watermarks(servers, "rt-kernel.retry.3")) == 0);
  // The retry record itself carries the bookkeeping.
  const auto retried = fixture.read_topic("rt-kernel.retry.1", 1, 10s);
  REQUIRE(retried.size() == 1);
  auto bookkeeping = header_map(retried[0]);
  CHECK(bookkeeping["retry-original-topic"] == "rt.in");
  CHECK(bookkeeping["retry-attempt"] == "2");
  CHECK(bookkeeping["retry-first-error"] == "dependency down");
  CHECK(bookkeeping["trace"] == "t-1");
  CHECK(bookkeeping.contains("retry-due-at"));
  CHECK(bookkeeping.contains("retry-first-failed-at"));
  CHECK(bookkeeping.contains("retry-original-timestamp"));
  CHECK(retried[0].key == "k1");
  // Each handling continues the trace with a span of its own: the input's, then each retry
  // record's, then the output's, four different spans of one trace.
  const auto second = fixture.read_topic("rt-kernel.retry.2", 1, 10s);
  REQUIRE(second.size() == 1);
  std::vector<std::string> spans{parent_id};
  for (const auto* record : {&retried[0], &second[0], &outputs[0]}) {
    const auto traceparent = header_map(*record)["traceparent"];
    REQUIRE(traceparent.size() == 55);
    CHECK(traceparent.substr(0, 36) == "00-" + trace_id + "-");
    CHECK(traceparent.ends_with("-01"));
    spans.push_back(traceparent.substr(36, 16));
  }
  CHECK(std::set<std::string>(spans.begin(), spans.end()).size() == 4);
}

TEST_CASE("after the last retry topic the message is dead-lettered with retries_exhausted and its first coordinates") {
  Calls calls;
  kernel::KernelSpec spec;
  spec.name = "rtx-kernel";
  spec.input_topics = {"rtx.in"};
  spec.output_topic = "rtx.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    calls.add(message.topic(), context.attempt());
    throw std::runtime_error("connection refused");
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_RETRY_TOPICS, "100ms,100ms"}});
  fixture.send({{"n", 1}}, "key-x");
  const auto letters = fixture.dead_letters(1, 30s);
  REQUIRE(letters.size() == 1);
  auto headers = header_map(letters[0]);
  CHECK(headers["dlq-failure-reason"] == "retries_exhausted");
  CHECK(headers["dlq-error-class"] == "transient");
  CHECK(headers["dlq-original-topic"] == "rtx.in");
  const auto input = fixture.read_topic("rtx.in", 1, 10s);
  REQUIRE(input.size() == 1);
  CHECK(headers["dlq-original-partition"] == std::to_string(input[0].partition.value_or(-1)));
  CHECK(headers["dlq-original-offset"] == std::to_string(input[0].offset));
  CHECK(headers["dlq-retry-count"] == "2");
  CHECK(letters[0].key == "key-x");
  for (const auto& [name, value] : letters[0].headers.entries()) {
    CHECK_MESSAGE(!(name.starts_with("retry-") && name != "retry-count"), "leaked header " << name);
  }
  CHECK(calls.copy() ==
        std::vector<std::pair<std::string, int>>{{"rtx.in", 1}, {"rtx-kernel.retry.1", 2}, {"rtx-kernel.retry.2", 3}});
}

TEST_CASE("after the last retry topic, a last attempt past KERNEL_HANDLER_TIMEOUT is dead-lettered as timeout") {
  kernel::KernelSpec spec;
  spec.name = "rtl-kernel";
  spec.input_topics = {"rtl.in"};
  spec.output_topic = "rtl.out";
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    std::this_thread::sleep_for(80ms);  // slow work: every attempt returns past its deadline
    context.produce(kernel::Outgoing{}.json(message.json()));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_RETRY_TOPICS, "10ms"},
                                                {env_var::KERNEL_HANDLER_TIMEOUT, "20ms"},
                                                {env_var::KERNEL_BREAKER_THRESHOLD, "0"}});
  fixture.send({{"n", 1}}, "key-l");
  const auto letters = fixture.dead_letters(1, 30s);
  REQUIRE(letters.size() == 1);
  auto headers = header_map(letters[0]);
  CHECK(headers["dlq-failure-reason"] == "timeout");
  CHECK(headers["dlq-error-type"] == "kernel::HandlerTimeout");
  CHECK(headers["dlq-retry-count"] == "1");
}

TEST_CASE("with retry topics, messages behind a failing one are not held up, even past the poll interval") {
  std::atomic<int> failing_attempts{0};
  std::atomic<int> other_calls{0};
  kernel::KernelSpec spec;
  spec.name = "rtq-kernel";
  spec.input_topics = {"rtq.in"};
  spec.output_topic = "rtq.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    const auto document = message.json();
    if (document["fail"].get<bool>()) {
      if (++failing_attempts == 1) throw kernel::TransientError("not yet");
    } else {
      ++other_calls;
    }
    context.produce(kernel::Outgoing{}.json(document));
  };
  // The retry delay (8 s) is longer than the rebalance timeout (max.poll.interval.ms, 6 s):
  // the loop keeps polling while the retry record waits, so the member stays in the group.
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_RETRY_TOPICS, "8s"},
                                                {env_var::KAFKA_CONSUMER_SESSION_TIMEOUT, "6s"},
                                                {env_var::KAFKA_CONSUMER_HEARTBEAT_INTERVAL, "1s"},
                                                {env_var::KAFKA_CONSUMER_REBALANCE_TIMEOUT, "6s"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "rtq-group"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"}});
  const auto& servers = fixture.bootstrap_servers();
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < 4; ++n) {
    kernel::jsonl::Record record;
    record.key = "same";
    record.value = nlohmann::json{{"n", n}, {"fail", n == 0}}.dump();
    record.partition = 0;
    records.push_back(record);
  }
  const auto started = Clock::now();
  kernel::detail::produce_records(servers, "rtq.in", records);
  // Offsets 1-3 behind the failing offset 0 on the same partition: out and committed well
  // before the retry is due.
  REQUIRE(testwait::wait_until([&] { return probe::committed(servers, "rtq-group", "rtq.in")[0] == 4; }, 7s));
  CHECK(Clock::now() - started < 8s);
  CHECK(failing_attempts.load() == 1);
  CHECK(other_calls.load() == 3);
  // Then the retry, from .retry.1, once due.
  const auto outputs = fixture.outputs(4, 30s);
  CHECK(outputs.size() == 4);
  CHECK(failing_attempts.load() == 2);
  CHECK(Clock::now() - started >= 8s);
  CHECK(other_calls.load() == 3);  // no rebalance redelivered anything
}

TEST_CASE("the input is committed only once its retry record is acknowledged") {
  kernel::testing::KernelFixture* running = nullptr;
  std::atomic<bool> injected{false};
  kernel::KernelSpec spec;
  spec.name = "rta-kernel";
  spec.input_topics = {"rta.in"};
  spec.output_topic = "rta.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    if (context.attempt() == 1) {
      if (!injected.exchange(true)) {
        // The retry record's produce now fails for a while (retriable errors, then resends).
        std::vector<rd_kafka_resp_err_t> errors(6, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
        constexpr int16_t produce_api_key = 0;  // Kafka protocol ApiKey of Produce
        rd_kafka_mock_push_request_errors_array(running->mock_cluster(), produce_api_key, errors.size(), errors.data());
      }
      throw kernel::TransientError("later");
    }
    context.produce(kernel::Outgoing{}.json(message.json()));
  };
  // Idempotence off: on the mock cluster an idempotent producer can be "implicitly acked".
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_RETRY_TOPICS, "100ms"},
                                                {env_var::KAFKA_PRODUCER_IDEMPOTENCE, "false"},
                                                {env_var::KAFKA_PRODUCER_REQUIRE_ACKS, "all"},
                                                {env_var::KAFKA_PRODUCER_MAX_ATTEMPTS, "2"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "rta-group"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "50ms"}});
  running = &fixture;
  const auto& servers = fixture.bootstrap_servers();
  fixture.send({{"n", 1}}, "k");
  // Whenever the input is seen committed, its retry record must already be on .retry.1
  // (checked after the commit was seen, so a commit ahead of the acknowledgement shows).
  bool committed_seen = false;
  REQUIRE(testwait::wait_until(
      [&] {
        const auto committed = probe::committed(servers, "rta-group", "rta.in");
        const bool committed_now = total(committed) > 0;
        const auto written = total(probe::high_watermarks(servers, "rta-kernel.retry.1"));
        if (committed_now) {
          committed_seen = true;
          CHECK_MESSAGE(written >= 1, "input committed before its retry record was written");
        }
        return committed_now;
      },
      30s));
  CHECK(committed_seen);
  CHECK(injected.load());
  CHECK(fixture.outputs(1, 30s).size() == 1);
}

}  // namespace retry_topics_test
