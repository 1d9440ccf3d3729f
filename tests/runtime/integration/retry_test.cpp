// A transient failure on one partition is retried in place with backoff while the other
// partitions keep being handled and committed; the failing partition's later offsets wait.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "broker/record_io.hpp"
#include "kernel/testing.hpp"
#include "probe.hpp"
#include "wait.hpp"

namespace retry_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

kernel::jsonl::Record record(int n, int partition, bool fail = false) {
  kernel::jsonl::Record r;
  // One key per input partition: its outputs share an output partition, so their order shows.
  r.key = "p" + std::to_string(partition);
  r.value = nlohmann::json{{"n", n}, {"fail", fail}}.dump();
  r.partition = partition;
  return r;
}

}  // namespace

TEST_CASE("a retry pauses only its partition; the others are handled and committed meanwhile") {
  std::atomic<int> attempts_of_failing{0};
  kernel::KernelSpec spec;
  spec.name = "retry-kernel";
  spec.input_topics = {"retry.in"};
  spec.output_topic = "retry.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    auto document = message.json();
    if (document["fail"].get<bool>()) {
      ++attempts_of_failing;
      if (context.attempt() < 3) throw kernel::TransientError("service unavailable");
    }
    context.produce(kernel::Outgoing{}.key(std::string(*message.key())).json(document));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_RETRY_BACKOFF, "5s"},
                                                {env_var::KERNEL_RETRY_JITTER, "0"},
                                                {env_var::KERNEL_RETRY_MULTIPLIER, "1"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "retry-group"}});
  const auto& servers = fixture.bootstrap_servers();
  // Partition 0: offset 0 fails twice, offsets 1-2 follow it. Partition 1: five good ones.
  kernel::detail::produce_records(servers, "retry.in", {record(0, 0, true), record(1, 0), record(2, 0)});
  std::vector<kernel::jsonl::Record> batch;
  for (int n = 10; n < 15; ++n) batch.push_back(record(n, 1));
  kernel::detail::produce_records(servers, "retry.in", batch);

  // Partition 1 is handled and committed while partition 0 waits for its backoff.
  REQUIRE(testwait::wait_until([&] { return probe::committed(servers, "retry-group", "retry.in")[1] == 5; }, 20s));
  const auto committed_meanwhile = probe::committed(servers, "retry-group", "retry.in");
  CHECK(committed_meanwhile.at(0) < 0);  // nothing committed on partition 0 yet
  const auto early = fixture.read_topic("retry.out", 5, 2s);
  for (const auto& output : early) {
    const auto n = nlohmann::json::parse(output.value)["n"].get<int>();
    CHECK_MESSAGE(n >= 10, "partition 0's later offsets wait for the retry");
  }
  CHECK(attempts_of_failing.load() == 1);  // still waiting for its first backoff

  // After two backoffs, partition 0 completes in order.
  REQUIRE(testwait::wait_until([&] { return probe::committed(servers, "retry-group", "retry.in")[0] == 3; }, 30s));
  CHECK(attempts_of_failing.load() == 3);
  const auto all = fixture.outputs(8, 10s);
  std::vector<int> partition0;
  for (const auto& output : all) {
    const auto document = nlohmann::json::parse(output.value);
    if (document["n"].get<int>() < 10) partition0.push_back(document["n"].get<int>());
    if (document["n"].get<int>() == 0) {
      bool has_retry_count = false;
      for (const auto& [name, value] : output.headers) has_retry_count |= name == "retry-count" && value == "2";
      CHECK_MESSAGE(has_retry_count, "the output of a retried message says how many retries it took");
    }
  }
  CHECK(partition0 == std::vector<int>{0, 1, 2});
}

TEST_CASE("a message that keeps failing transiently is dead-lettered with retries_exhausted") {
  kernel::KernelSpec spec;
  spec.name = "exhausted-kernel";
  spec.input_topics = {"exhausted.in"};
  spec.output_topic = "exhausted.out";
  spec.handler = [](const kernel::Message&, kernel::Context&) { throw std::runtime_error("connection refused"); };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_RETRY_BACKOFF, "50ms"},
                                                {env_var::KAFKA_CONSUMER_MAX_RETRIES, "2"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "exhausted-group"}});
  fixture.send({{"n", 1}}, "key-1");
  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  std::map<std::string, std::string> headers(letters[0].headers.begin(), letters[0].headers.end());
  CHECK(headers["dlq-error-class"] == "transient");
  CHECK(headers["dlq-failure-reason"] == "retries_exhausted");
  CHECK(headers["dlq-retry-count"] == "2");
  CHECK(headers["dlq-error-type"] == "std::runtime_error");
  CHECK(headers["dlq-error-message"] == "connection refused");
  CHECK(letters[0].key == "key-1");
}

}  // namespace retry_test
