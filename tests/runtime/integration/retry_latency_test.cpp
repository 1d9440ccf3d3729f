// A retry runs when it is due, not at the loop's next idle wake-up: the waiting message (or
// batch, or worker call) is in memory, so nothing but the loop's own poll timeout
// (loop/poll_timeout.hpp) stands between its due time and the handler's next call.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "kernel/testing.hpp"
#include "wait.hpp"

namespace retry_latency_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int failures = 6;
// A constant 230 ms backoff: not a multiple of the loop's idle wake-up, so a retry that waited
// for it would be late by a good part of it.
constexpr auto backoff = 230ms;

/// When each call was made, and when each failed one failed.
struct CallTimes {
  std::mutex mutex;
  std::vector<Clock::time_point> failed_at, called_at;

  /// Records a call; true when it is to fail (the first `failures` attempts).
  bool call(int attempt) {
    std::lock_guard lock(mutex);
    called_at.push_back(Clock::now());
    if (attempt > failures) return false;
    failed_at.push_back(Clock::now());
    return true;
  }

  /// Each retry's call came within a few ms of its due time, never before it.
  void check_on_time() {
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
};

kernel::Environment retry_settings(kernel::Environment more = {}) {
  more.insert({{env_var::KERNEL_RETRY_BACKOFF, "230ms"},
               {env_var::KERNEL_RETRY_MULTIPLIER, "1"},
               {env_var::KERNEL_RETRY_JITTER, "0"},
               {env_var::KAFKA_CONSUMER_MAX_RETRIES, std::to_string(failures)},
               {env_var::KERNEL_BREAKER_THRESHOLD, "0"}});
  return more;
}

}  // namespace

TEST_CASE("in-place retry: the handler is called again within a few ms of the retry's due time") {
  CallTimes times;
  kernel::KernelSpec spec;
  spec.name = "retry-latency";
  spec.input_topics = {"retry-latency.in"};
  spec.output_topic = "retry-latency.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    if (times.call(context.attempt())) throw kernel::TransientError("dependency unavailable");
    context.produce(kernel::Outgoing{}.json(message.json()));
  };
  kernel::testing::KernelFixture fixture(spec, retry_settings());
  fixture.send({{"n", 1}}, "slow");
  REQUIRE(fixture.outputs(1, 30s).size() == 1);
  times.check_on_time();
}

TEST_CASE("a whole batch's retry: the batch handler is called again within a few ms of its due time") {
  CallTimes times;
  kernel::KernelSpec spec;
  spec.name = "retry-latency-batch";
  spec.input_topics = {"retry-latency-batch.in"};
  spec.output_topic = "retry-latency-batch.out";
  spec.batch_handler = [&](kernel::Batch& batch, kernel::Context& context) {
    if (times.call(context.attempt())) throw kernel::TransientError("dependency unavailable");
    for (std::size_t i = 0; i < batch.size(); ++i) batch.produce(i, kernel::Outgoing{}.json(batch[i].json()));
  };
  kernel::testing::KernelFixture fixture(spec, retry_settings({{env_var::KERNEL_BATCH_SIZE, "1"}}));
  fixture.send({{"n", 1}}, "slow");
  REQUIRE(fixture.outputs(1, 30s).size() == 1);
  times.check_on_time();
}

TEST_CASE("a worker call's retry (KERNEL_CONCURRENCY > 1): called again within a few ms of its due time") {
  CallTimes times;
  kernel::KernelSpec spec;
  spec.name = "retry-latency-workers";
  spec.input_topics = {"retry-latency-workers.in"};
  spec.output_topic = "retry-latency-workers.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    if (times.call(context.attempt())) throw kernel::TransientError("dependency unavailable");
    context.produce(kernel::Outgoing{}.json(message.json()));
  };
  kernel::testing::KernelFixture fixture(spec, retry_settings({{env_var::KERNEL_CONCURRENCY, "4"}}));
  fixture.send({{"n", 1}}, "slow");
  REQUIRE(fixture.outputs(1, 30s).size() == 1);
  times.check_on_time();
}

}  // namespace retry_latency_test
