// Rebalances: a partition revoked while paused is fetched again when it comes back.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <set>

#include "broker/record_io.hpp"
#include "kernel/testing.hpp"
#include "wait.hpp"

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
  const kernel::Environment environment{{"KAFKA_CONSUMER_GROUP", "paused-handover-group"},
                                        {"KAFKA_CONSUMER_COMMIT_INTERVAL", "100ms"},
                                        {"KERNEL_RETRY_BACKOFF", "1h"},  // paused until revoked
                                        {"KERNEL_RETRY_BACKOFF_MAX", "1h"},
                                        {"KERNEL_RETRY_JITTER", "0"},
                                        {"KERNEL_SHUTDOWN_TIMEOUT", "5s"}};
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
    second_environment["KAFKA_BOOTSTRAP_SERVERS"] = servers;
    kernel::testing::KernelFixture second(spec, second_environment);
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
