// An assignment librdkafka declares lost (a commit answered ILLEGAL_GENERATION, as happens to
// a commit that waited behind the member's own JoinGroup) and then gives back to the same
// member: the work it completed meanwhile is not done again.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "broker/record_io.hpp"
#include "kernel/testing.hpp"
#include "kernels.hpp"
#include "probe.hpp"

namespace lost_assignment_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

long long total(const std::map<int, long long>& offsets) {
  long long sum = 0;
  for (const auto& [partition, offset] : offsets) sum += std::max(0LL, offset);
  return sum;
}

}  // namespace

TEST_CASE("partitions lost through a stale-generation commit and assigned back resume where their work had got") {
  kernel::KernelSpec spec;
  spec.name = "lost-kernel";
  spec.input_topics = {"lost.in"};
  spec.output_topic = "lost.out";
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    std::this_thread::sleep_for(1ms);  // some work: progress piles up while commits fail
    context.produce(kernel::Outgoing{}.key(std::string(*message.key())).json(message.json()));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                                {env_var::KAFKA_CONSUMER_SESSION_TIMEOUT, "3s"},
                                                {env_var::KAFKA_CONSUMER_HEARTBEAT_INTERVAL, "500ms"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "lost-group"},
                                                {env_var::KERNEL_HTTP_PORT, "0"}});
  const auto& servers = fixture.bootstrap_servers();
  constexpr int count = 4000;
  const auto records = testkernels::numbered_records(count);
  const auto ends = kernel::detail::produce_records(servers, "lost.in", records);

  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (total(probe::high_watermarks(servers, "lost.out")) < 300 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // polling a condition with a deadline
  }
  // Commits fail for about two seconds (an error that is not about the group: the loop tries
  // again each interval), then one is answered with a stale generation: librdkafka 2.0.2
  // declares the whole assignment lost, rejoins, and this only member gets it back.
  std::vector<rd_kafka_resp_err_t> errors(20, RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE);
  errors.push_back(RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION);
  constexpr int16_t offset_commit_api_key = 8;  // Kafka protocol ApiKey of OffsetCommit
  rd_kafka_mock_push_request_errors_array(fixture.mock_cluster(), offset_commit_api_key, errors.size(), errors.data());

  std::map<int, long long> committed;
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    committed = probe::committed(servers, "lost-group", "lost.in");
    done = true;
    for (const auto& [partition, end] : ends) done &= committed[partition] == end;
    if (!done) std::this_thread::sleep_for(100ms);  // polling a condition with a deadline
  }
  REQUIRE_MESSAGE(done, "every input committed");

  // The assignment was lost and given back: assigned, lost, assigned again.
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(5s);
  const auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  const auto at = metrics->body.find("\nkernel_rebalances_total ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(metrics->body.substr(at + std::string("\nkernel_rebalances_total ").size())) >= 3);

  // Every input out exactly once.
  std::map<int, int> times;
  for (const auto& output : fixture.read_topic("lost.out", count, 30s)) {
    ++times[nlohmann::json::parse(output.value)["n"].get<int>()];
  }
  CHECK(times.size() == count);
  int again = 0;
  for (const auto& [n, seen] : times) again += seen - 1;
  CHECK_MESSAGE(again == 0, again, " inputs handled again after the assignment came back");
}

}  // namespace lost_assignment_test
