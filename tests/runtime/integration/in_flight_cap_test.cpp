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

using namespace std::chrono_literals;

TEST_CASE("a partition at its in-flight cap does not wait linger.ms for its acknowledgements") {
  constexpr int count = 100;
  constexpr int cap = 10;
  // A linger of 4 s: waiting for it at each of the 10 caps would take 40 s.
  kernel::testing::KernelFixture fixture(testkernels::json_echo("cap-flush"),
                                         {{"KAFKA_MAX_POLL_RECORDS", std::to_string(cap)},
                                          {"KAFKA_PRODUCER_BATCH_TIMEOUT", "4s"},
                                          {"KERNEL_BATCH_SIZE", std::to_string(cap)}});
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < count; ++n) {
    kernel::jsonl::Record record;
    record.key = "one key, one partition";
    record.value = nlohmann::json{{"n", n}}.dump();
    records.push_back(std::move(record));
  }
  kernel::detail::produce_records(fixture.bootstrap_servers(), "cap-flush.in", records);
  const auto started = std::chrono::steady_clock::now();
  // The last cap's worth still waits one linger (nothing comes after it to fill its batch):
  // 10 caps in well under two lingers means the other nine did not.
  const auto outputs = fixture.outputs(count, 7500ms);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  MESSAGE(count, " outputs through a cap of ", cap, " in ", took.count(), " ms");
  REQUIRE(outputs.size() == count);
  for (int n = 0; n < count; ++n) CHECK(nlohmann::json::parse(outputs[n].value)["n"] == n);  // in order
}

}  // namespace in_flight_cap_test
