// A partition at its in-flight cap (KAFKA_MAX_POLL_RECORDS messages handled, their outputs not
// yet acknowledged) has nothing to add to the producer's batches: the kernel has them sent at
// once instead of after linger.ms (KAFKA_PRODUCER_BATCH_TIMEOUT). Without that, one busy
// partition moved at most a cap's worth of messages per linger.ms.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/record_io.hpp"
#include "kernel/testing.hpp"
#include "kernels.hpp"

namespace in_flight_cap_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

/// An in-flight cap of `cap` messages per partition and a linger.ms of 4 s.
kernel::Environment with_cap(int cap) {
  return {{env_var::KAFKA_MAX_POLL_RECORDS, std::to_string(cap)},
          {env_var::KAFKA_PRODUCER_BATCH_TIMEOUT, "4s"},
          {env_var::KERNEL_BATCH_SIZE, std::to_string(cap)}};
}

/// `count` messages {"n": 0..count-1} with one key, so all on one partition, in order.
void produce_on_one_partition(const kernel::testing::KernelFixture& fixture, const std::string& topic, int count) {
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < count; ++n) {
    kernel::jsonl::Record record;
    record.key = "one key, one partition";
    record.value = nlohmann::json{{"n", n}}.dump();
    records.push_back(std::move(record));
  }
  kernel::detail::produce_records(fixture.bootstrap_servers(), topic, records);
}

TEST_CASE("a partition at its in-flight cap does not wait linger.ms for its acknowledgements") {
  constexpr int count = 100;
  constexpr int cap = 10;
  // A linger of 4 s: waiting for it at each of the 10 caps would take 40 s.
  // librdkafka's default batch size: with the kernel's own (half the cap) each batch would go
  // out when full and the flush at the cap would never be needed.
  auto environment = with_cap(cap);
  environment["KAFKA_PROPERTY_BATCH_NUM_MESSAGES"] = "10000";
  kernel::testing::KernelFixture fixture(testkernels::json_echo("cap-flush"), environment);
  produce_on_one_partition(fixture, "cap-flush.in", count);
  const auto started = std::chrono::steady_clock::now();
  // The last cap's worth still waits one linger (nothing comes after it to fill its batch):
  // 10 caps in well under two lingers means the other nine did not.
  const auto outputs = fixture.outputs(count, 7500ms);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  MESSAGE(count, " outputs through a cap of ", cap, " in ", took.count(), " ms");
  REQUIRE(outputs.size() == count);
  for (int n = 0; n < count; ++n) CHECK(nlohmann::json::parse(outputs[n].value)["n"] == n);  // in order
}

TEST_CASE("a partition's outputs go out once they fill half the in-flight cap, without waiting linger.ms") {
  // Half the cap is batch.num.messages: those outputs are sent at once while the partition has
  // room for more (so the flush at the cap does not apply). librdkafka's default (10,000) would
  // hold them for the whole linger.
  constexpr int cap = 10;
  constexpr int count = cap / 2;
  kernel::testing::KernelFixture fixture(testkernels::json_echo("half-cap"), with_cap(cap));
  produce_on_one_partition(fixture, "half-cap.in", count);
  const auto started = std::chrono::steady_clock::now();
  const auto outputs = fixture.outputs(count, 2500ms);  // well within the 4 s linger
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  MESSAGE(count, " outputs (half a cap of ", cap, ") in ", took.count(), " ms");
  REQUIRE(outputs.size() == count);
}

}  // namespace in_flight_cap_test
