// Stopping: outputs held by linger.ms are flushed, and the whole stop fits in
// KERNEL_SHUTDOWN_TIMEOUT.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>

#include "kernel/testing.hpp"
#include "probe.hpp"
#include "wait.hpp"

namespace shutdown_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

TEST_CASE("outputs held back by a long linger.ms are flushed at shutdown and their inputs committed") {
  std::atomic<int> handled{0};
  kernel::KernelSpec spec;
  spec.name = "lingering";
  spec.input_topics = {"lingering.in"};
  spec.output_topic = "lingering.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    context.produce(kernel::Outgoing{}.json(message.json()));
    ++handled;
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KAFKA_CONSUMER_GROUP, "lingering-group"},
                                                {env_var::KAFKA_PRODUCER_BATCH_TIMEOUT, "2m"},
                                                {env_var::KERNEL_SHUTDOWN_TIMEOUT, "5s"}});
  fixture.send({{"n", 1}}, "k");
  REQUIRE(testwait::wait_until([&] { return handled == 1; }, 20s));

  const auto started = std::chrono::steady_clock::now();
  CHECK(fixture.stop() == kernel::exit_code::ok);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(fixture.outputs(1, 5s).size() == 1);
  long long committed = 0;
  for (const auto& [partition, offset] :
       probe::committed(fixture.bootstrap_servers(), "lingering-group", "lingering.in")) {
    committed += std::max(0LL, offset);
  }
  CHECK(committed == 1);
}

}  // namespace shutdown_test
