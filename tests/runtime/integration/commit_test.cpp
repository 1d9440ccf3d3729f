// Commits: a commit the broker refuses is never counted as done; at shutdown it is retried
// while the deadline allows, and a kernel that could not commit says so and exits 1.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include <httplib.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "broker/record_io.hpp"
#include "kernel/testing.hpp"
#include "kernels.hpp"
#include "probe.hpp"
#include "wait.hpp"

namespace commit_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

constexpr std::int16_t offset_commit_api_key = 8;  // Kafka protocol ApiKey of OffsetCommit

void refuse_commits(rd_kafka_mock_cluster_t* cluster, std::size_t times) {
  std::vector<rd_kafka_resp_err_t> errors(times, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS);
  rd_kafka_mock_push_request_errors_array(cluster, offset_commit_api_key, errors.size(), errors.data());
}

long long total(const std::map<int, long long>& offsets) {
  long long sum = 0;
  for (const auto& [partition, offset] : offsets) sum += std::max(0LL, offset);
  return sum;
}

double metric(httplib::Client& client, const std::string& name) {
  const auto response = client.Get("/metrics");
  if (!response) return -1;
  const auto& body = response->body;
  const auto at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + name.size() + 2));
}

}  // namespace

TEST_CASE("a commit refused until the shutdown deadline is not counted as done: exit 1") {
  auto spec = testkernels::json_echo("refused-commit");
  kernel::testing::KernelFixture fixture(spec, {{env_var::KAFKA_CONSUMER_GROUP, "refused-commit-group"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "1h"},
                                                {env_var::KERNEL_SHUTDOWN_TIMEOUT, "3s"}});
  for (int n = 0; n < 3; ++n) fixture.send({{"n", n}}, "k" + std::to_string(n));
  fixture.outputs(3, 20s);  // handled and acknowledged: only the commit is owed

  refuse_commits(fixture.mock_cluster(), 10000);
  const auto started = std::chrono::steady_clock::now();
  const int code = fixture.stop();
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(code == kernel::exit_code::failure);
  CHECK(took < 4s);  // within KERNEL_SHUTDOWN_TIMEOUT, not after a watchdog
  CHECK(total(probe::committed(fixture.bootstrap_servers(), "refused-commit-group", "refused-commit.in")) == 0);
}

TEST_CASE("a commit refused a few times at shutdown is retried and succeeds: exit 0") {
  auto spec = testkernels::json_echo("retried-commit");
  kernel::testing::KernelFixture fixture(spec, {{env_var::KAFKA_CONSUMER_GROUP, "retried-commit-group"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "1h"},
                                                {env_var::KERNEL_RETRY_BACKOFF, "50ms"},
                                                {env_var::KERNEL_SHUTDOWN_TIMEOUT, "10s"}});
  for (int n = 0; n < 3; ++n) fixture.send({{"n", n}}, "k" + std::to_string(n));
  fixture.outputs(3, 20s);

  refuse_commits(fixture.mock_cluster(), 3);
  CHECK(fixture.stop() == kernel::exit_code::ok);
  CHECK(total(probe::committed(fixture.bootstrap_servers(), "retried-commit-group", "retried-commit.in")) == 3);
}

TEST_CASE("kernel_commits_total counts a synchronous commit once") {
  auto spec = testkernels::json_echo("counted-commit");
  const kernel::Environment environment{{env_var::KAFKA_CONSUMER_GROUP, "counted-commit-group"},
                                        {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "1h"},  // only revocations commit
                                        {env_var::KERNEL_HTTP_PORT, "0"}};
  kernel::testing::KernelFixture first(spec, environment);
  httplib::Client client("127.0.0.1", first.http_port());
  const auto& servers = first.bootstrap_servers();
  std::vector<kernel::jsonl::Record> records;
  for (int partition = 0; partition < 4; ++partition) {
    kernel::jsonl::Record r;
    r.key = "p" + std::to_string(partition);
    r.value = nlohmann::json{{"n", partition}}.dump();
    r.partition = partition;
    records.push_back(r);
  }
  kernel::detail::produce_records(servers, "counted-commit.in", records);
  first.outputs(4, 20s);
  CHECK(metric(client, "kernel_commits_total") == 0);

  // A second member takes some partitions: the first commits them, synchronously, once.
  auto with_second = environment;
  with_second[env_var::KAFKA_BOOTSTRAP_SERVERS] = servers;
  with_second[env_var::KERNEL_HTTP_PORT] = "off";
  kernel::testing::KernelFixture second(spec, with_second, testwait::kRejoinTimeout);
  REQUIRE(testwait::wait_until([&] { return metric(client, "kernel_commits_total") >= 1; }, 20s));
  // More messages on every partition: both members handle some, so the first has polled its
  // queue (where a second report of the same commit would have come) well after the commit.
  for (auto& r : records) r.value = nlohmann::json{{"n", 10 + *r.partition}}.dump();
  kernel::detail::produce_records(servers, "counted-commit.in", records);
  first.read_topic("counted-commit.out", 8, 20s);
  CHECK(metric(client, "kernel_commits_total") == 1);
}

}  // namespace commit_test
