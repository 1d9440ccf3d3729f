// Produce errors injected into the broker (they hit every topic, dead letters included):
// nothing is committed before its outputs are acknowledged, and nothing is lost.
#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <thread>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "broker/record_io.hpp"
#include "gate.hpp"
#include "kernel/testing.hpp"
#include "kernels.hpp"
#include "probe.hpp"

namespace produce_errors_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

TEST_CASE("outputs failing for a while are sent again; commits wait for acknowledgements") {
  kernel::KernelSpec spec;
  spec.name = "flaky-out-kernel";
  spec.input_topics = {"flaky.in"};
  spec.output_topic = "flaky.out";
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    context.produce(kernel::Outgoing{}.key(std::string(*message.key())).json(message.json()));
  };
  // Idempotence off: this test is about the runtime's resends and commit accounting. With it on,
  // one CI run saw 2 of 200 outputs acknowledged that the mock never stored: it checks no
  // sequence numbers for a non-transactional producer, so after a refused request librdkafka
  // takes the next request's success as proof of the refused one ("implicitly acked").
  kernel::testing::KernelFixture fixture(spec, {{env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                                {env_var::KAFKA_PRODUCER_IDEMPOTENCE, "false"},
                                                {"KAFKA_PROPERTY_RETRY_BACKOFF_MS", "20"},
                                                {env_var::KERNEL_RETRY_BACKOFF, "50ms"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "flaky-group"}});
  const auto& servers = fixture.bootstrap_servers();
  constexpr int count = 200;
  const auto records = testkernels::numbered_records(count);
  const auto ends = kernel::detail::produce_records(servers, "flaky.in", records);

  // From now on every produce request fails (retriable) for a while: the kernel's outputs
  // cannot be acknowledged.
  std::vector<rd_kafka_resp_err_t> errors(60, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  constexpr int16_t produce_api_key = 0;  // Kafka protocol ApiKey of Produce
  rd_kafka_mock_push_request_errors_array(fixture.mock_cluster(), produce_api_key, errors.size(), errors.data());

  // While produce requests fail, nothing is committed beyond what was acknowledged.
  bool saw_unacknowledged = false;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  std::map<int, long long> committed;
  while (std::chrono::steady_clock::now() < deadline) {
    // Committed offsets first, then outputs: outputs only grow, so a commit seen before them
    // must already be covered by them.
    committed = probe::committed(servers, "flaky-group", "flaky.in");
    const auto outputs = probe::high_watermarks(servers, "flaky.out");
    long long committed_total = 0, output_total = 0;
    for (const auto& [partition, offset] : committed) committed_total += std::max(0LL, offset);
    for (const auto& [partition, mark] : outputs) output_total += mark;
    CHECK_MESSAGE(committed_total <= output_total, "an input was committed before its output was acknowledged");
    saw_unacknowledged |= output_total < count;
    bool done = true;
    for (const auto& [partition, end] : ends) done &= committed[partition] == end;
    if (done) break;
    std::this_thread::sleep_for(100ms);  // sampling, with a deadline
  }
  CHECK(saw_unacknowledged);
  for (const auto& [partition, end] : ends) CHECK(committed[partition] == end);

  // Nothing lost: every input has an output.
  std::set<int> seen;
  for (const auto& output : fixture.outputs(count, 20s))
    seen.insert(nlohmann::json::parse(output.value)["n"].get<int>());
  CHECK(seen.size() == count);
}

TEST_CASE("an output to a partition that does not exist dead-letters its input (output_failed)") {
  kernel::KernelSpec spec;
  spec.name = "no-partition";
  spec.input_topics = {"no-partition.in"};
  spec.output_topic = "no-partition.out";
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    auto document = message.json();
    kernel::Outgoing output;
    output.json(document);
    if (document.value("nowhere", false)) output.partition(99);
    context.produce(std::move(output));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KAFKA_CONSUMER_GROUP, "no-partition-group"}});
  fixture.send({{"n", 1}, {"nowhere", true}}, "same");
  fixture.send({{"n", 2}}, "same");

  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  std::map<std::string, std::string> headers(letters[0].headers.begin(), letters[0].headers.end());
  CHECK(headers["dlq-failure-reason"] == "output_failed");
  CHECK(headers["dlq-error-message"].find("no-partition.out") != std::string::npos);
  const auto outputs = fixture.outputs(1, 20s);
  REQUIRE(outputs.size() == 1);
  CHECK(nlohmann::json::parse(outputs[0].value)["n"] == 2);
}

TEST_CASE("a fatal producer error stops the kernel at once with exit 70") {
  kernel::KernelSpec spec;
  testwait::Gate gate;
  spec.name = "fatal-producer";
  spec.input_topics = {"fatal-producer.in"};
  spec.output_topic = "fatal-producer.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    gate.pass();
    context.produce(kernel::Outgoing{}.json(message.json()));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KAFKA_CONSUMER_GROUP, "fatal-producer-group"},
                                                {env_var::KAFKA_PRODUCER_IDEMPOTENCE, "true"},
                                                {env_var::KERNEL_SHUTDOWN_TIMEOUT, "20s"}});
  fixture.send({{"n", 1}}, "k");
  // For an idempotent producer, a head-of-line OUT_OF_ORDER_SEQUENCE_NUMBER is fatal.
  REQUIRE(gate.wait_for_arrival());
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
  rd_kafka_mock_push_request_errors_array(fixture.mock_cluster(), 0, 1, &error);
  gate.open();
  const auto code = fixture.wait_for_exit(10s);  // promptly: well before KERNEL_SHUTDOWN_TIMEOUT
  REQUIRE(code.has_value());
  CHECK(*code == kernel::exit_code::software);
  // Its output was never delivered: the input is not committed.
  for (const auto& [partition, offset] :
       probe::committed(fixture.bootstrap_servers(), "fatal-producer-group", "fatal-producer.in")) {
    CHECK(offset < 0);
  }
}

}  // namespace produce_errors_test
