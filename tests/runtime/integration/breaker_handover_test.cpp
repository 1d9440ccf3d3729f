// The circuit breaker's probe, run on a worker, handed over with its partition: the probe's
// result is discarded when it returns, and the breaker must not wait for it for ever.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "gate.hpp"
#include "kernel/testing.hpp"
#include "wait.hpp"

namespace breaker_handover_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

constexpr int kPartitions = 4;

kernel::jsonl::Record on_partition(int partition, int n) {
  kernel::jsonl::Record r;
  r.key = "p" + std::to_string(partition);
  r.value = nlohmann::json{{"n", n}}.dump();
  r.partition = partition;
  return r;
}

std::string circuit_of(int port) {
  httplib::Client client("127.0.0.1", port);
  const auto response = client.Get("/admin/status");
  if (!response || response->status != 200) return "";
  return nlohmann::json::parse(response->body)["circuit"]["state"].get<std::string>();
}

}  // namespace

TEST_CASE("a breaker probe handed over while it runs on a worker: the kernel probes again and closes the circuit") {
  // Phase 1: the downstream refuses, so the first message opens the circuit. Phase 2: it
  // answers; the probe (that message again) hangs at a gate while a second member joins and
  // takes its partition, past the revocation's deadline. When the probe returns, its result is
  // discarded: the first member must probe again with what it kept, not wait for ever.
  std::atomic<bool> outage{true};
  testwait::Gate gate;
  std::atomic<int> probes{0};
  auto member = [&](bool first) {
    kernel::KernelSpec spec;
    spec.name = "breaker-handover";
    spec.input_topics = {"breaker-handover.in"};
    spec.output_topic = "breaker-handover.out";
    spec.handler = [&, first](const kernel::Message& message, kernel::Context& context) {
      if (first && outage.load()) throw kernel::TransientError("service unavailable");
      if (first && message.json()["n"].get<int>() == 0 && probes++ == 0) gate.pass(60s);
      context.produce(
          kernel::Outgoing{}.key(std::string(*message.key())).json({{"n", message.json()["n"]}, {"first", first}}));
    };
    return spec;
  };
  const kernel::Environment environment{{env_var::KERNEL_CONCURRENCY, "4"},
                                        {env_var::KAFKA_CONSUMER_GROUP, "breaker-handover"},
                                        {env_var::KERNEL_BREAKER_THRESHOLD, "2"},
                                        {env_var::KERNEL_BREAKER_COOLDOWN, "200ms"},
                                        {env_var::KERNEL_BREAKER_COOLDOWN_MAX, "200ms"},
                                        {env_var::KERNEL_RETRY_BACKOFF, "10ms"},
                                        {env_var::KERNEL_RETRY_JITTER, "0"},
                                        {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                        {env_var::KERNEL_SHUTDOWN_TIMEOUT, "1s"}};  // the revocation waits no longer
  auto first_environment = environment;
  first_environment[env_var::KERNEL_HTTP_PORT] = "0";
  kernel::testing::KernelFixture first(member(true), first_environment);
  const auto servers = first.bootstrap_servers();

  // The message that opens the circuit and then probes it, on the partition the sticky
  // assignor hands to a joining member (checked below).
  constexpr int probe_partition = 0;
  kernel::detail::produce_records(servers, "breaker-handover.in", {on_partition(probe_partition, 0)});
  REQUIRE(testwait::wait_until([&] { return circuit_of(first.http_port()) == "open"; }, 20s));
  // Held on the other partitions while the circuit is open.
  std::vector<kernel::jsonl::Record> held;
  for (int partition = 1; partition < kPartitions; ++partition) held.push_back(on_partition(partition, partition));
  kernel::detail::produce_records(servers, "breaker-handover.in", held);
  outage = false;
  REQUIRE(gate.wait_for_arrival(20s));  // the probe runs, and hangs

  auto second_environment = environment;
  second_environment[env_var::KAFKA_BOOTSTRAP_SERVERS] = servers;
  second_environment[env_var::KERNEL_HTTP_PORT] = "off";
  kernel::testing::KernelFixture second(member(false), second_environment, testwait::kRejoinTimeout);
  // The second member handles the probe's message: its partition was handed over, and the
  // revocation gave up on the hung call.
  std::set<int> handled;
  const bool handed_over = testwait::wait_until(
      [&] {
        for (const auto& output : second.read_topic("breaker-handover.out", 0, 200ms)) {
          const auto value = nlohmann::json::parse(output.value);
          if (!value["first"].get<bool>()) handled.insert(value["n"].get<int>());
        }
        return handled.count(0) > 0;
      },
      testwait::kRejoinTimeout);
  REQUIRE_MESSAGE(handed_over, "the probe's partition stayed with the first member: this test needs it handed over");
  gate.open();  // the discarded probe returns

  // What the first member kept comes out: it probed again, and the circuit closed.
  REQUIRE(testwait::wait_until(
      [&] {
        for (const auto& output : first.read_topic("breaker-handover.out", 0, 200ms)) {
          handled.insert(nlohmann::json::parse(output.value)["n"].get<int>());
        }
        return static_cast<int>(handled.size()) == kPartitions;
      },
      20s));
  CHECK(circuit_of(first.http_port()) == "closed");
}

}  // namespace breaker_handover_test
