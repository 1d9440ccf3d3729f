// KERNEL_ORDERING's lanes (loop/key_lanes.hpp), the worker pool's hand-over
// (loop/worker_pool.hpp), and the two settings as the registry reads them.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "loop/key_lanes.hpp"
#include "loop/partition_state.hpp"
#include "loop/worker_pool.hpp"

namespace key_lanes_test {

using namespace kernel;
using namespace kernel::detail;

namespace {

Message keyed(std::optional<std::string> key) { return Message("t", 3, 0, std::move(key), "{}"); }

std::string problem_of(Environment env) {
  env.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092");
  try {
    Config::load({"orders-enricher", {"orders"}, std::string("orders.enriched")}, env, RunMode::production,
                 "/nonexistent-dir/.env");
  } catch (const ConfigError& error) {
    return error.problems().empty() ? "" : error.problems().front();
  }
  return "";
}

}  // namespace

TEST_CASE("a reserved lane (a call still running from an earlier assignment) holds its items until released") {
  KeyLanes<int> lanes;
  lanes.reserve("ka");
  lanes.reserve("ka");  // two earlier states' calls, both still running
  CHECK(!lanes.enter(std::string("ka"), 1));
  CHECK(lanes.enter(std::string("kb"), 2) == 2);  // other keys go on
  CHECK(lanes.running() == 1);
  CHECK(lanes.waiting() == 1);
  CHECK(lanes.running_lanes() == std::vector<std::string>{"kb"});  // not the reserved ones
  CHECK(!lanes.release("ka"));                                     // one call still holds it
  CHECK(lanes.release("ka") == 1);  // the last one returned: the first waiting item starts
  CHECK(lanes.running() == 2);
  CHECK(!lanes.enter(std::string("ka"), 3));  // behind item 1, as usual
  CHECK(lanes.leave(std::string("ka")) == 3);
  CHECK(!lanes.release("kc"));  // never reserved: nothing
  lanes.reserve("kd");
  CHECK(!lanes.release("kd"));  // nothing waited: the lane is free again
  CHECK(lanes.enter(std::string("kd"), 4) == 4);
}

TEST_CASE("lane_of: a key under key ordering, the partition for null keys and partition ordering, none for none") {
  CHECK(lane_of(Ordering::key, keyed("a")) == "ka");
  CHECK(lane_of(Ordering::key, keyed("")) == "k");  // an empty key is a key of its own
  CHECK(lane_of(Ordering::key, keyed(std::nullopt)) == "");
  CHECK(lane_of(Ordering::partition, keyed("a")) == "");
  CHECK(lane_of(Ordering::none, keyed("a")) == std::nullopt);
}

TEST_CASE("KeyLanes: one item per lane runs; the next starts, in order, when it leaves") {
  KeyLanes<int> lanes;
  const std::optional<std::string> a = "ka", b = "kb";
  CHECK(lanes.enter(a, 1) == 1);
  CHECK(lanes.enter(a, 2) == std::nullopt);  // waits behind 1
  CHECK(lanes.enter(b, 3) == 3);             // another lane runs beside it
  CHECK(lanes.enter(a, 4) == std::nullopt);
  CHECK(lanes.running() == 2);
  CHECK(lanes.waiting() == 2);
  CHECK(lanes.leave(a) == 2);
  CHECK(lanes.leave(a) == 4);
  CHECK(lanes.leave(a) == std::nullopt);
  CHECK(lanes.enter(a, 5) == 5);  // the lane was freed
  CHECK(lanes.leave(b) == std::nullopt);
  CHECK(lanes.running() == 1);
  CHECK(lanes.waiting() == 0);
}

TEST_CASE("KeyLanes: items without a lane always run; dropping forgets what waits") {
  KeyLanes<int> lanes;
  CHECK(lanes.enter(std::nullopt, 1) == 1);
  CHECK(lanes.enter(std::nullopt, 2) == 2);
  const std::optional<std::string> a = "ka", b = "kb";
  lanes.enter(a, 3);
  lanes.enter(a, 4);
  lanes.enter(b, 5);
  lanes.enter(b, 6);
  lanes.drop_lane(a);
  CHECK(lanes.waiting() == 1);
  CHECK(lanes.leave(a) == std::nullopt);
  lanes.drop_waiting();
  CHECK(lanes.waiting() == 0);
  CHECK(lanes.leave(b) == std::nullopt);
  CHECK(lanes.leave(std::nullopt) == std::nullopt);
  CHECK(lanes.running() == 1);
}

TEST_CASE("WorkerPool: calls run on the workers and come back through the completion queue") {
  std::atomic<int> wakes{0};
  WorkerPool pool(
      4, [](Call& call, std::size_t worker) { call.outcome.message = "worker " + std::to_string(worker); },
      [&] { ++wakes; });
  CHECK(pool.size() == 4);
  PartitionState partition;
  InFlight entry;
  for (int i = 0; i < 20; ++i) {
    pool.submit(std::make_unique<Call>(partition, entry, keyed("k" + std::to_string(i)), 1, std::nullopt));
  }
  std::vector<std::unique_ptr<Call>> done;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (done.size() < 20 && pool.wait_for_completion(deadline)) pool.take_completed(done);
  REQUIRE(done.size() == 20);
  for (const auto& call : done) CHECK(call->outcome.message.rfind("worker ", 0) == 0);
  CHECK(pool.outstanding() == 0);
  CHECK(wakes.load() >= 1);
}

TEST_CASE("KERNEL_CONCURRENCY is 1 to 1024 and KERNEL_ORDERING one of key, partition, none") {
  CHECK(problem_of({{env_var::KERNEL_CONCURRENCY, "0"}}).find(env_var::KERNEL_CONCURRENCY) != std::string::npos);
  CHECK(problem_of({{env_var::KERNEL_CONCURRENCY, "1025"}}).find("at most 1024") != std::string::npos);
  CHECK(problem_of({{env_var::KERNEL_CONCURRENCY, "64"}}).empty());
  CHECK(problem_of({{env_var::KERNEL_ORDERING, "keys"}}).find("expected key, partition or none") != std::string::npos);
  const auto config = Config::load({"orders-enricher", {"orders"}, std::string("orders.enriched")},
                                   {{env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092"},
                                    {env_var::KERNEL_CONCURRENCY, "64"},
                                    {env_var::KERNEL_ORDERING, "partition"}},
                                   RunMode::production, "/nonexistent-dir/.env");
  CHECK(config.settings().concurrency == 64);
  CHECK(config.settings().ordering == Ordering::partition);
  const auto defaults =
      Config::load({"orders-enricher", {"orders"}, std::string("orders.enriched")},
                   {{env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092"}}, RunMode::production, "/nonexistent-dir/.env");
  CHECK(defaults.settings().concurrency == 1);
  CHECK(defaults.settings().ordering == Ordering::key);
}

}  // namespace key_lanes_test
