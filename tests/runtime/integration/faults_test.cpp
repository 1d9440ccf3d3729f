// Fault injection on the in-process broker (issue 15 section 7): produce errors for the output,
// retry and dead-letter topics, and the broker set down and up mid-stream. Every input id must end on
// the output or the dead-letter topic (read back with confluent-kafka); duplicates are counted.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "broker/record_io.hpp"
#include "gate.hpp"
#include "kernel/testing.hpp"
#include "probe.hpp"

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
  // Idempotence off: the mock acknowledges batches it never stored under injected errors.
  kernel::testing::KernelFixture fixture(spec, {{"KAFKA_CONSUMER_COMMIT_INTERVAL", "100ms"},
                                                {"KAFKA_PRODUCER_IDEMPOTENCE", "false"},
                                                {"KAFKA_PROPERTY_RETRY_BACKOFF_MS", "20"},
                                                {"KERNEL_RETRY_BACKOFF", "50ms"},
                                                {"KAFKA_CONSUMER_GROUP", "faults-inject"}});
  const auto& servers = fixture.bootstrap_servers();
  constexpr int count = 2000;
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < count; ++n) {
    kernel::jsonl::Record r;
    r.key = "id-" + std::to_string(n);
    r.value = nlohmann::json{{"n", n}}.dump();
    records.push_back(r);
  }
  kernel::detail::produce_records(servers, "faults-inject.in", records);
  REQUIRE(gate.wait_for_arrival());

  // Every input is on the broker and nothing is produced yet: from now on the kernel is the
  // only producer, and its Produce requests (outputs and dead letters alike) meet these errors.
  std::vector<rd_kafka_resp_err_t> errors(40, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  errors.insert(errors.end(), 20, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  rd_kafka_mock_push_request_errors_array(fixture.mock_cluster(), 0 /* Produce */, errors.size(), errors.data());
  gate.open();

  // Mid-stream (some outputs out, not all), the broker goes away for two seconds.
  const auto outputs_so_far = [&] {
    long long total = 0;
    for (const auto& [partition, mark] : probe::high_watermarks(servers, "faults-inject.out")) total += mark;
    return total;
  };
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  long long before_down = 0;
  while ((before_down = outputs_so_far()) < 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // polling a condition, with a deadline
  }
  REQUIRE(rd_kafka_mock_broker_set_down(fixture.mock_cluster(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  std::this_thread::sleep_for(2s);  // the outage's length, not a synchronisation
  REQUIRE(rd_kafka_mock_broker_set_up(fixture.mock_cluster(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  const auto up = std::chrono::steady_clock::now();
  MESSAGE("outputs before the broker went down: " << before_down);
  CHECK(before_down >= 200);
  CHECK(before_down < count * 9 / 10);  // really mid-stream

  const int expected_dlq = count / 10, expected_out = count - expected_dlq;
  const auto out = keys_of(servers, "faults-inject.out", expected_out);
  const auto dlq = keys_of(servers, "faults-inject.dlq", expected_dlq);
  const auto recover = std::chrono::duration<double>(std::chrono::steady_clock::now() - up).count();
  int lost = 0, duplicates = 0;
  for (int n = 0; n < count; ++n) {
    const auto key = "id-" + std::to_string(n);
    const auto seen = static_cast<int>(out.count(key) + dlq.count(key));
    if (seen == 0) ++lost;
    duplicates += std::max(0, seen - 1);
    CHECK_MESSAGE((n % 10 == 3 ? dlq.count(key) : out.count(key)) >= 1, key);
  }
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
  kernel::testing::KernelFixture fixture(spec, {{"KAFKA_CONSUMER_COMMIT_INTERVAL", "100ms"},
                                                {"KAFKA_PRODUCER_IDEMPOTENCE", "false"},
                                                {"KAFKA_PROPERTY_RETRY_BACKOFF_MS", "20"},
                                                {"KAFKA_PRODUCER_MAX_ATTEMPTS", "1"},
                                                {"KERNEL_RETRY_BACKOFF", "50ms"},
                                                {"KAFKA_CONSUMER_GROUP", "faults-dlq"}});
  const auto& servers = fixture.bootstrap_servers();
  constexpr int count = 300;
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < count; ++n) {
    kernel::jsonl::Record r;
    r.key = "id-" + std::to_string(n);
    r.value = nlohmann::json{{"n", n}}.dump();
    records.push_back(r);
  }
  kernel::detail::produce_records(servers, "faults-dlq.in", records);
  REQUIRE(gate.wait_for_arrival());
  // The kernel is now the only producer and writes nothing but dead letters.
  std::vector<rd_kafka_resp_err_t> errors(30, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  rd_kafka_mock_push_request_errors_array(fixture.mock_cluster(), 0 /* Produce */, errors.size(), errors.data());
  const auto armed = std::chrono::steady_clock::now();
  gate.open();

  const auto dlq = keys_of(servers, "faults-dlq.dlq", count);
  const auto recover = std::chrono::duration<double>(std::chrono::steady_clock::now() - armed).count();
  int lost = 0, duplicates = 0;
  for (int n = 0; n < count; ++n) {
    const auto seen = static_cast<int>(dlq.count("id-" + std::to_string(n)));
    if (seen == 0) ++lost;
    duplicates += std::max(0, seen - 1);
  }
  std::printf(
      "FAULTS scenario=produce_errors_dead_letters messages=%d faults=%zu lost=%d duplicates=%d dlq=%zu "
      "recover_s=%.1f\n",
      count, errors.size(), lost, duplicates, dlq.size(), recover);
  CHECK(lost == 0);
  // Every dead letter acknowledged, so every input is committed (within a few commit intervals).
  const auto ends = probe::high_watermarks(servers, "faults-dlq.in");
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  auto committed = probe::committed(servers, "faults-dlq", "faults-dlq.in");
  while (committed != ends && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);  // polling a condition, with a deadline
    committed = probe::committed(servers, "faults-dlq", "faults-dlq.in");
  }
  CHECK(committed == ends);
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
  kernel::testing::KernelFixture fixture(spec, {{"KAFKA_CONSUMER_COMMIT_INTERVAL", "100ms"},
                                                {"KAFKA_PRODUCER_IDEMPOTENCE", "false"},
                                                {"KAFKA_PROPERTY_RETRY_BACKOFF_MS", "20"},
                                                {"KAFKA_PRODUCER_MAX_ATTEMPTS", "2"},
                                                {"KERNEL_RETRY_BACKOFF", "50ms"},
                                                {"KERNEL_RETRY_TOPICS", "50ms,100ms"},
                                                {"KERNEL_BREAKER_THRESHOLD", "0"},
                                                {"KAFKA_CONSUMER_GROUP", "faults-retry"}});
  const auto& servers = fixture.bootstrap_servers();
  constexpr int count = 1000;
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < count; ++n) {
    kernel::jsonl::Record r;
    r.key = "id-" + std::to_string(n);
    r.value = nlohmann::json{{"n", n}}.dump();
    records.push_back(r);
  }
  kernel::detail::produce_records(servers, "faults-retry.in", records);
  REQUIRE(gate.wait_for_arrival());
  // The kernel is now the only producer: its Produce requests to the output, the retry topics
  // and the dead-letter topic meet these errors (injected per request type, whatever the topic),
  // one burst now and one while the retried records are being moved on.
  std::vector<rd_kafka_resp_err_t> errors(30, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  errors.insert(errors.end(), 10, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  rd_kafka_mock_push_request_errors_array(fixture.mock_cluster(), 0 /* Produce */, errors.size(), errors.data());
  const auto armed = std::chrono::steady_clock::now();
  gate.open();
  const auto retried = [&] {
    long long total = 0;
    for (const auto& [partition, mark] : probe::high_watermarks(servers, "faults-retry.retry.2")) total += mark;
    return total;
  };
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (retried() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // polling a condition, with a deadline
  }
  REQUIRE(retried() > 0);
  rd_kafka_mock_push_request_errors_array(fixture.mock_cluster(), 0 /* Produce */, errors.size(), errors.data());

  // Out: every input but the always-failing and the refused ones (8 in 10); dead letters: 2 in 10.
  const int expected_dlq = count / 5, expected_out = count - expected_dlq;
  const auto out = keys_of(servers, "faults-retry.out", expected_out);
  const auto dlq = keys_of(servers, "faults-retry.dlq", expected_dlq);
  const auto recover = std::chrono::duration<double>(std::chrono::steady_clock::now() - armed).count();
  int lost = 0, duplicates = 0;
  for (int n = 0; n < count; ++n) {
    const auto key = "id-" + std::to_string(n);
    const auto seen = static_cast<int>(out.count(key) + dlq.count(key));
    if (seen == 0) ++lost;
    duplicates += std::max(0, seen - 1);
    CHECK_MESSAGE((n % 10 == 2 || n % 10 == 3 ? dlq.count(key) : out.count(key)) >= 1, key);
  }
  const auto through_retry_topics = probe::high_watermarks(servers, "faults-retry.retry.1");
  long long moved_once = 0;
  for (const auto& [partition, mark] : through_retry_topics) moved_once += mark;
  std::printf(
      "FAULTS scenario=produce_errors_with_retry_topics messages=%d faults=%zu lost=%d duplicates=%d out=%zu "
      "dlq=%zu retry1=%lld retry2=%lld recover_s=%.1f\n",
      count, errors.size() * 2, lost, duplicates, out.size(), dlq.size(), moved_once, retried(), recover);
  CHECK(lost == 0);
  CHECK(moved_once >= count * 3 / 10);  // 1 in 5 once, 1 in 10 always
  CHECK(retried() >= count / 10);
  // Every retry topic's records, like the inputs, end committed.
  for (const auto* topic : {"faults-retry.in", "faults-retry.retry.1", "faults-retry.retry.2"}) {
    const auto ends = probe::high_watermarks(servers, topic);
    const auto until = std::chrono::steady_clock::now() + 20s;
    auto committed = probe::committed(servers, "faults-retry", topic);
    while (committed != ends && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(100ms);  // polling a condition, with a deadline
      committed = probe::committed(servers, "faults-retry", topic);
    }
    CHECK_MESSAGE(committed == ends, topic);
  }
}
