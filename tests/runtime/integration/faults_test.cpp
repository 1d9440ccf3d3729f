// Fault injection on the in-process broker (issue 15 section 7): produce errors for the output,
// retry and dead-letter topics, and the broker set down and up mid-stream. Every input id must end on
// the output or the dead-letter topic (read back with confluent-kafka); duplicates are counted.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "broker/record_io.hpp"
#include "gate.hpp"
#include "kernel/testing.hpp"
#include "probe.hpp"
#include "wait.hpp"

namespace faults_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

/// Key of each record of `topic` (at least `count` of them), as the probe read it.
std::multiset<std::string> keys_of(const std::string& servers, const std::string& topic, int count) {
  std::multiset<std::string> keys;
  const auto out = probe::run("consume --bootstrap " + servers + " --topic " + topic + " --count " +
                              std::to_string(count) + " --timeout 60");
  std::size_t start = 0;
  while (start < out.size()) {
    const auto end = out.find('\n', start);
    const auto line = out.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty()) keys.insert(nlohmann::json::parse(line)["key"]["text"].get<std::string>());
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return keys;
}

/// What every scenario sets up: the kernel on the in-process broker (its consumer group named
/// after it, commits every 100 ms, idempotence off because the mock acknowledges batches it
/// never stored under injected errors, short backoffs; `extra` on top), `count` inputs
/// {"n": <n>} keyed id-<n> on its input topic, and its first call held at `gate` (which the
/// handler passes first) until the test has armed the faults: from then on the kernel is the
/// only producer.
class FaultScenario {
 public:
  FaultScenario(const kernel::KernelSpec& spec, testwait::Gate& gate, int count, const kernel::Environment& extra = {})
      : fixture_(spec, settings(spec.name, extra)), group_(spec.name) {
    std::vector<kernel::jsonl::Record> records;
    for (int n = 0; n < count; ++n) {
      kernel::jsonl::Record r;
      r.key = "id-" + std::to_string(n);
      r.value = nlohmann::json{{"n", n}}.dump();
      records.push_back(r);
    }
    kernel::detail::produce_records(servers(), spec.input_topics.front(), records);
    REQUIRE(gate.wait_for_arrival());
  }

  kernel::testing::KernelFixture& fixture() { return fixture_; }
  const std::string& servers() const { return fixture_.bootstrap_servers(); }

  /// The broker answers the next Produce requests (outputs, retry records and dead letters
  /// alike, whatever the topic) with `errors`, one each, in order.
  void inject(std::vector<rd_kafka_resp_err_t> errors) {
    rd_kafka_mock_push_request_errors_array(fixture_.mock_cluster(), 0 /* Produce */, errors.size(), errors.data());
  }

  /// Records on `topic` (the sum of its high watermarks).
  long long records_on(const std::string& topic) const {
    long long total = 0;
    for (const auto& [partition, mark] : probe::high_watermarks(servers(), topic)) total += mark;
    return total;
  }

  /// Key of each record of `topic` (at least `count` of them).
  std::multiset<std::string> keys(const std::string& topic, int count) const {
    return keys_of(servers(), topic, count);
  }

  /// Waits (up to 20 s) until the group's committed offsets of `topic` are its ends.
  bool committed_to_end(const std::string& topic) const {
    const auto ends = probe::high_watermarks(servers(), topic);
    return testwait::wait_until([&] { return probe::committed(servers(), group_, topic) == ends; }, 20s);
  }

 private:
  static kernel::Environment settings(const std::string& group, const kernel::Environment& extra) {
    kernel::Environment all{{env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                            {env_var::KAFKA_PRODUCER_IDEMPOTENCE, "false"},
                            {"KAFKA_PROPERTY_RETRY_BACKOFF_MS", "20"},
                            {env_var::KERNEL_RETRY_BACKOFF, "50ms"},
                            {env_var::KAFKA_CONSUMER_GROUP, group}};
    for (const auto& [name, value] : extra) all[name] = value;
    return all;
  }

  kernel::testing::KernelFixture fixture_;
  std::string group_;
};

/// Inputs id-0..id-<count - 1> found in none of `topics` (lost) and found more than once in
/// all of them together (duplicates).
struct Tally {
  int lost = 0;
  int duplicates = 0;
};

Tally tally(int count, std::initializer_list<const std::multiset<std::string>*> topics) {
  Tally tally;
  for (int n = 0; n < count; ++n) {
    const auto key = "id-" + std::to_string(n);
    int seen = 0;
    for (const auto* keys : topics) seen += static_cast<int>(keys->count(key));
    if (seen == 0) ++tally.lost;
    tally.duplicates += std::max(0, seen - 1);
  }
  return tally;
}

}  // namespace

TEST_CASE("produce errors on outputs and dead letters, and the broker down and up mid-stream: zero lost") {
  kernel::KernelSpec spec;
  spec.name = "faults-inject";
  spec.input_topics = {"faults-inject.in"};
  spec.output_topic = "faults-inject.out";
  // One input in ten is refused for good, so dead letters are written while produces fail.
  // The first call waits at the gate until the faults are armed; each call takes 1 ms so the
  // stream lasts long enough for the broker to go down in the middle of it.
  testwait::Gate gate;
  spec.handler = [&gate](const kernel::Message& message, kernel::Context& context) {
    gate.pass();
    std::this_thread::sleep_for(1ms);  // simulated work
    const auto n = message.json().at("n").get<int>();
    if (n % 10 == 3) throw kernel::PermanentError("rejected by the fault test");
    context.produce(kernel::Outgoing{}.key(std::string(*message.key())).json({{"n", n}}));
  };
  constexpr int count = 2000;
  FaultScenario scenario(spec, gate, count);

  // Every input is on the broker and nothing is produced yet: the kernel's Produce requests
  // (outputs and dead letters alike) meet these errors.
  std::vector<rd_kafka_resp_err_t> errors(40, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  errors.insert(errors.end(), 20, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  scenario.inject(errors);
  gate.open();

  // Mid-stream (some outputs out, not all), the broker goes away for two seconds.
  long long before_down = 0;
  testwait::wait_until([&] { return (before_down = scenario.records_on("faults-inject.out")) >= 200; }, 60s);
  auto* cluster = scenario.fixture().mock_cluster();
  REQUIRE(rd_kafka_mock_broker_set_down(cluster, 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  std::this_thread::sleep_for(2s);  // the outage's length, not a synchronisation
  REQUIRE(rd_kafka_mock_broker_set_up(cluster, 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  const auto up = std::chrono::steady_clock::now();
  MESSAGE("outputs before the broker went down: " << before_down);
  CHECK(before_down >= 200);
  CHECK(before_down < count * 9 / 10);  // really mid-stream

  const int expected_dlq = count / 10, expected_out = count - expected_dlq;
  const auto out = scenario.keys("faults-inject.out", expected_out);
  const auto dlq = scenario.keys("faults-inject.dlq", expected_dlq);
  const auto recover = std::chrono::duration<double>(std::chrono::steady_clock::now() - up).count();
  for (int n = 0; n < count; ++n) {
    const auto key = "id-" + std::to_string(n);
    CHECK_MESSAGE((n % 10 == 3 ? dlq.count(key) : out.count(key)) >= 1, key);
  }
  const auto [lost, duplicates] = tally(count, {&out, &dlq});
  std::printf(
      "FAULTS scenario=produce_errors_and_broker_down messages=%d faults=%zu+1down lost=%d duplicates=%d "
      "out=%zu dlq=%zu recover_s=%.1f\n",
      count, errors.size(), lost, duplicates, out.size(), dlq.size(), recover);
  CHECK(lost == 0);
}

TEST_CASE("produce errors while only dead letters are written: each is sent again, none lost") {
  kernel::KernelSpec spec;
  spec.name = "faults-dlq";
  spec.input_topics = {"faults-dlq.in"};
  spec.output_topic = "faults-dlq.out";
  testwait::Gate gate;
  spec.handler = [&gate](const kernel::Message&, kernel::Context&) {
    gate.pass();
    throw kernel::PermanentError("every input is refused");
  };
  constexpr int count = 300;
  FaultScenario scenario(spec, gate, count, {{env_var::KAFKA_PRODUCER_MAX_ATTEMPTS, "1"}});
  // The kernel writes nothing but dead letters.
  std::vector<rd_kafka_resp_err_t> errors(30, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  scenario.inject(errors);
  const auto armed = std::chrono::steady_clock::now();
  gate.open();

  const auto dlq = scenario.keys("faults-dlq.dlq", count);
  const auto recover = std::chrono::duration<double>(std::chrono::steady_clock::now() - armed).count();
  const auto [lost, duplicates] = tally(count, {&dlq});
  std::printf(
      "FAULTS scenario=produce_errors_dead_letters messages=%d faults=%zu lost=%d duplicates=%d dlq=%zu "
      "recover_s=%.1f\n",
      count, errors.size(), lost, duplicates, dlq.size(), recover);
  CHECK(lost == 0);
  // Every dead letter acknowledged, so every input is committed (within a few commit intervals).
  CHECK(scenario.committed_to_end("faults-dlq.in"));
}

TEST_CASE("produce errors with retry topics on: outputs, retry records and dead letters each sent again, none lost") {
  kernel::KernelSpec spec;
  spec.name = "faults-retry";
  spec.input_topics = {"faults-retry.in"};
  spec.output_topic = "faults-retry.out";
  // One input in five fails once (out from .retry.1), one in ten always (through .retry.1 and
  // .retry.2, then dead-lettered as retries_exhausted), one in ten is refused for good: outputs,
  // retry records and dead letters are all being written while produces fail.
  testwait::Gate gate;
  spec.handler = [&gate](const kernel::Message& message, kernel::Context& context) {
    gate.pass();
    const auto n = message.json().at("n").get<int>();
    if (n % 5 == 1 && context.attempt() == 1) throw kernel::TransientError("dependency unavailable (once)");
    if (n % 10 == 2) throw kernel::TransientError("dependency unavailable (always)");
    if (n % 10 == 3) throw kernel::PermanentError("rejected by the fault test");
    context.produce(
        kernel::Outgoing{}.key(std::string(*message.key())).json({{"n", n}, {"attempt", context.attempt()}}));
  };
  constexpr int count = 1000;
  FaultScenario scenario(spec, gate, count,
                         {{env_var::KAFKA_PRODUCER_MAX_ATTEMPTS, "2"},
                          {env_var::KERNEL_RETRY_TOPICS, "50ms,100ms"},
                          {env_var::KERNEL_BREAKER_THRESHOLD, "0"}});
  // One burst of errors now and one while the retried records are being moved on.
  std::vector<rd_kafka_resp_err_t> errors(30, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  errors.insert(errors.end(), 10, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  scenario.inject(errors);
  const auto armed = std::chrono::steady_clock::now();
  gate.open();
  const auto retried = [&] { return scenario.records_on("faults-retry.retry.2"); };
  REQUIRE(testwait::wait_until([&] { return retried() > 0; }, 60s));
  scenario.inject(errors);

  // Out: every input but the always-failing and the refused ones (8 in 10); dead letters: 2 in 10.
  const int expected_dlq = count / 5, expected_out = count - expected_dlq;
  const auto out = scenario.keys("faults-retry.out", expected_out);
  const auto dlq = scenario.keys("faults-retry.dlq", expected_dlq);
  const auto recover = std::chrono::duration<double>(std::chrono::steady_clock::now() - armed).count();
  for (int n = 0; n < count; ++n) {
    const auto key = "id-" + std::to_string(n);
    CHECK_MESSAGE((n % 10 == 2 || n % 10 == 3 ? dlq.count(key) : out.count(key)) >= 1, key);
  }
  const auto [lost, duplicates] = tally(count, {&out, &dlq});
  const auto moved_once = scenario.records_on("faults-retry.retry.1");
  std::printf(
      "FAULTS scenario=produce_errors_with_retry_topics messages=%d faults=%zu lost=%d duplicates=%d out=%zu "
      "dlq=%zu retry1=%lld retry2=%lld recover_s=%.1f\n",
      count, errors.size() * 2, lost, duplicates, out.size(), dlq.size(), moved_once, retried(), recover);
  CHECK(lost == 0);
  CHECK(moved_once >= count * 3 / 10);  // 1 in 5 once, 1 in 10 always
  CHECK(retried() >= count / 10);
  // Every retry topic's records, like the inputs, end committed.
  for (const auto* topic : {"faults-retry.in", "faults-retry.retry.1", "faults-retry.retry.2"}) {
    CHECK_MESSAGE(scenario.committed_to_end(topic), topic);
  }
}

}  // namespace faults_test
