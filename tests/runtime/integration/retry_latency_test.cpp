// An in-place retry runs when it is due, not at the loop's next idle wake-up: the waiting
// message is in memory, so nothing but the loop's own poll timeout stands between its due
// time and the handler's next call.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <vector>

#include "kernel/testing.hpp"
#include "wait.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_CASE("in-place retry: the handler is called again within a few ms of the retry's due time") {
  std::mutex mutex;
  std::vector<Clock::time_point> failed_at, called_at;
  kernel::KernelSpec spec;
  spec.name = "retry-latency";
  spec.input_topics = {"retry-latency.in"};
  spec.output_topic = "retry-latency.out";
  constexpr int failures = 6;
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    {
      std::lock_guard lock(mutex);
      called_at.push_back(Clock::now());
      if (context.attempt() <= failures) {
        failed_at.push_back(Clock::now());
        throw kernel::TransientError("dependency unavailable");
      }
    }
    context.produce(kernel::Outgoing{}.json(message.json()));
  };
  // A constant 230 ms backoff: not a multiple of the loop's idle wake-up, so a retry that waited
  // for it would be late by a good part of it.
  constexpr auto backoff = 230ms;
  kernel::testing::KernelFixture fixture(spec, {{"KERNEL_RETRY_BACKOFF", "230ms"},
                                                {"KERNEL_RETRY_MULTIPLIER", "1"},
                                                {"KERNEL_RETRY_JITTER", "0"},
                                                {"KAFKA_CONSUMER_MAX_RETRIES", std::to_string(failures)},
                                                {"KERNEL_BREAKER_THRESHOLD", "0"}});
  fixture.send({{"n", 1}}, "slow");
  REQUIRE(fixture.outputs(1, 30s).size() == 1);
  std::lock_guard lock(mutex);
  REQUIRE(called_at.size() == failures + 1);
  std::vector<double> late_ms;
  for (int n = 0; n < failures; ++n) {
    late_ms.push_back(std::chrono::duration<double, std::milli>(called_at[n + 1] - failed_at[n] - backoff).count());
  }
  std::string figures;
  for (const auto late : late_ms) figures += std::to_string(static_cast<int>(late)) + " ";
  MESSAGE("ms from each retry's due time to the handler's next call: " << figures);
  // Never early; late only by scheduling (the loop used to wake up every 100 ms: 0-100 ms late).
  CHECK(*std::min_element(late_ms.begin(), late_ms.end()) >= -1.0);
  std::sort(late_ms.begin(), late_ms.end());
  CHECK(late_ms[late_ms.size() / 2] < 20.0);  // the median, robust to one scheduling hiccup
  CHECK(late_ms.back() < 150.0);
}
