// Rebalances: a partition revoked while paused is fetched again when it comes back.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <set>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "broker/record_io.hpp"
#include "gate.hpp"
#include "kernel/testing.hpp"
#include "probe.hpp"
#include "wait.hpp"

namespace rebalance_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

kernel::jsonl::Record record(int n, int partition) {
  kernel::jsonl::Record r;
  r.key = "p" + std::to_string(partition);
  r.value = nlohmann::json{{"n", n}, {"partition", partition}}.dump();
  r.partition = partition;
  return r;
}

}  // namespace

TEST_CASE("a partition paused for a retry when revoked is fetched again when it comes back") {
  std::atomic<bool> failing{true};
  std::atomic<int> failures{0};
  kernel::KernelSpec spec;
  spec.name = "paused-handover";
  spec.input_topics = {"paused-handover.in"};
  spec.output_topic = "paused-handover.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    if (failing) {
      ++failures;
      throw kernel::TransientError("service unavailable");
    }
    context.produce(kernel::Outgoing{}.key(std::string(*message.key())).json(message.json()));
  };
  const kernel::Environment environment{{env_var::KAFKA_CONSUMER_GROUP, "paused-handover-group"},
                                        {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                        {env_var::KERNEL_RETRY_BACKOFF, "1h"},  // paused until revoked
                                        {env_var::KERNEL_RETRY_BACKOFF_MAX, "1h"},
                                        {env_var::KERNEL_RETRY_JITTER, "0"},
                                        {env_var::KERNEL_SHUTDOWN_TIMEOUT, "5s"}};
  kernel::testing::KernelFixture first(spec, environment);
  const auto& servers = first.bootstrap_servers();
  // Every partition gets a message that fails: the first member pauses all of them.
  std::vector<kernel::jsonl::Record> failing_ones;
  for (int partition = 0; partition < 4; ++partition) failing_ones.push_back(record(partition, partition));
  kernel::detail::produce_records(servers, "paused-handover.in", failing_ones);
  REQUIRE(testwait::wait_until([&] { return failures == 4; }, 20s));

  // A second member joins once the failures are over and takes some of the paused partitions.
  // It handles their messages; then it leaves and they come back to the first member.
  std::set<int> moved;
  {
    failing = false;
    auto second_environment = environment;
    second_environment[env_var::KAFKA_BOOTSTRAP_SERVERS] = servers;
    kernel::testing::KernelFixture second(spec, second_environment, testwait::kRejoinTimeout);
    const auto outputs = second.read_topic("paused-handover.out", 1, 30s);
    REQUIRE(!outputs.empty());
    for (const auto& output : outputs) moved.insert(nlohmann::json::parse(output.value)["partition"].get<int>());
    CHECK(second.stop() == kernel::exit_code::ok);
  }

  // New messages on the partitions that moved and came back are handled by the first member.
  std::vector<kernel::jsonl::Record> later;
  for (int partition : moved) later.push_back(record(100 + partition, partition));
  kernel::detail::produce_records(servers, "paused-handover.in", later);
  std::set<int> handled;
  REQUIRE(testwait::wait_until(
      [&] {
        for (const auto& output : first.read_topic("paused-handover.out", 0, 200ms)) {
          const auto n = nlohmann::json::parse(output.value)["n"].get<int>();
          if (n >= 100) handled.insert(n - 100);
        }
        return handled == moved;
      },
      30s));
}

TEST_CASE("outputs of a revoked partition are not resent after the handover: its next owner produces them") {
  testwait::Gate gate;
  std::atomic<int> calls{0};
  kernel::KernelSpec spec;
  spec.name = "resend-handover";
  spec.input_topics = {"resend-handover.in"};
  spec.output_topic = "resend-handover.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    ++calls;
    gate.pass();
    context.produce(kernel::Outgoing{}.key(std::string(*message.key())).json(message.json()));
  };
  const kernel::Environment environment{{env_var::KAFKA_CONSUMER_GROUP, "resend-handover-group"},
                                        {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                        {env_var::KAFKA_PRODUCER_IDEMPOTENCE, "false"},
                                        {env_var::KAFKA_PRODUCER_MAX_ATTEMPTS, "1"},
                                        {env_var::KERNEL_RETRY_BACKOFF, "50ms"},
                                        {env_var::KERNEL_RETRY_BACKOFF_MAX, "200ms"},
                                        {env_var::KERNEL_SHUTDOWN_TIMEOUT, "2s"}};  // bounds the revocation's wait
  kernel::testing::KernelFixture first(spec, environment);
  const auto& servers = first.bootstrap_servers();
  std::vector<kernel::jsonl::Record> inputs;
  for (int partition = 0; partition < 4; ++partition) inputs.push_back(record(partition, partition));
  kernel::detail::produce_records(servers, "resend-handover.in", inputs);

  // Once the first input is in, every produce fails: the first member keeps resending.
  REQUIRE(gate.wait_for_arrival());
  std::vector<rd_kafka_resp_err_t> errors(1'000'000, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  constexpr std::int16_t produce_api_key = 0;
  rd_kafka_mock_push_request_errors_array(first.mock_cluster(), produce_api_key, errors.size(), errors.data());
  gate.open();

  // A second member takes some partitions over; their inputs were not committed, so it
  // handles them again. Then produce requests succeed again.
  REQUIRE(testwait::wait_until([&] { return calls == 4; }, 20s));
  auto second_environment = environment;
  second_environment[env_var::KAFKA_BOOTSTRAP_SERVERS] = servers;
  kernel::testing::KernelFixture second(spec, second_environment, testwait::kRejoinTimeout);
  REQUIRE(testwait::wait_until([&] { return calls > 4; }, 30s));  // the second member has some
  rd_kafka_mock_clear_request_errors(first.mock_cluster(), produce_api_key);

  REQUIRE(testwait::wait_until(
      [&] {
        const auto committed = probe::committed(servers, "resend-handover-group", "resend-handover.in");
        int done = 0;
        for (const auto& [partition, offset] : committed) done += offset == 1;
        return done == 4;
      },
      30s));
  CHECK(second.stop() == kernel::exit_code::ok);
  CHECK(first.stop() == kernel::exit_code::ok);
  // Each input has exactly one output: the first member did not resend what it handed over.
  std::map<int, int> outputs_per_input;
  for (const auto& output : first.read_topic("resend-handover.out", 4, 10s)) {
    ++outputs_per_input[nlohmann::json::parse(output.value)["n"].get<int>()];
  }
  CHECK(outputs_per_input == std::map<int, int>{{0, 1}, {1, 1}, {2, 1}, {3, 1}});
}

}  // namespace rebalance_test
