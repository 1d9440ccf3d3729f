// KERNEL_CONCURRENCY and KERNEL_ORDERING: handler calls on worker threads, in key (or
// partition) order, with commits that never pass an unfinished offset, retries that hold
// only their key, and a circuit breaker that starts nothing more while it is open.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "broker/record_io.hpp"
#include "core/rfc3339.hpp"
#include "gate.hpp"
#include "kernel/testing.hpp"
#include "probe.hpp"
#include "wait.hpp"

namespace concurrency_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

/// What the handler saw, from every worker: the calls in the order they started, and which
/// ran at the same time.
struct Calls {
  std::mutex mutex;
  std::map<std::string, std::vector<int>> started_by_lane;  // lane -> n, in call order
  std::vector<std::pair<std::string, int>> order;           // (lane, n) by start
  std::multiset<std::string> running;                       // lanes running now
  int overlapping_same_lane = 0;                            // a lane's calls that overlapped
  int most_at_once = 0;                                     // calls running at the same time
  std::set<std::string> lanes_overlapped;                   // lanes seen running beside another lane

  void enter(const std::string& lane, int n) {
    std::lock_guard lock(mutex);
    if (running.count(lane)) ++overlapping_same_lane;
    for (const auto& other : running) {
      if (other != lane) lanes_overlapped.insert(lane);
    }
    running.insert(lane);
    most_at_once = std::max<int>(most_at_once, static_cast<int>(running.size()));
    started_by_lane[lane].push_back(n);
    order.emplace_back(lane, n);
  }
  void leave(const std::string& lane) {
    std::lock_guard lock(mutex);
    running.erase(running.find(lane));
  }
};

/// Sleeps up to `most` (simulated I/O), a different time per call.
void random_delay(std::chrono::microseconds most) {
  thread_local std::mt19937 random(std::random_device{}());
  std::this_thread::sleep_for(std::chrono::microseconds(random() % (most.count() + 1)));
}

kernel::KernelSpec recording_kernel(const std::string& name, Calls& calls,
                                    std::function<std::string(const kernel::Message&)> lane,
                                    std::chrono::microseconds delay) {
  kernel::KernelSpec spec;
  spec.name = name;
  spec.input_topics = {name + ".in"};
  spec.output_topic = name + ".out";
  spec.handler = [&calls, lane, delay](const kernel::Message& message, kernel::Context& context) {
    const auto n = message.json()["n"].get<int>();
    const auto its_lane = lane(message);
    calls.enter(its_lane, n);
    random_delay(delay);
    calls.leave(its_lane);
    kernel::Outgoing output;
    if (const auto key = message.key()) output.key(std::string(*key));
    context.produce(std::move(output.json({{"n", n}})));
  };
  return spec;
}

bool increasing(const std::vector<int>& values) {
  for (std::size_t i = 1; i < values.size(); ++i) {
    if (values[i] <= values[i - 1]) return false;
  }
  return true;
}

/// n rising over all records; key k<n % keys>, so each key's values rise in offset order.
std::vector<kernel::jsonl::Record> keyed_records(int count, int keys) {
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < count; ++n) {
    kernel::jsonl::Record r;
    r.key = "k" + std::to_string(n % keys);
    r.value = nlohmann::json{{"n", n}}.dump();
    records.push_back(r);
  }
  return records;
}

std::string key_of(const kernel::Message& message) { return std::string(message.key().value_or("<null>")); }
std::string partition_of(const kernel::Message& message) { return "p" + std::to_string(message.partition()); }

}  // namespace

TEST_CASE("KERNEL_ORDERING=key: a key's messages run one at a time in offset order while keys overlap") {
  Calls calls;
  auto spec = recording_kernel("conc-key", calls, key_of, 3000us);
  kernel::testing::KernelFixture fixture(
      spec, {{env_var::KERNEL_CONCURRENCY, "16"}, {env_var::KAFKA_CONSUMER_GROUP, "conc-key"}});
  kernel::detail::produce_records(fixture.bootstrap_servers(), "conc-key.in", keyed_records(600, 40));
  const auto outputs = fixture.outputs(600, 60s);

  std::lock_guard lock(calls.mutex);
  CHECK(calls.overlapping_same_lane == 0);
  CHECK(calls.started_by_lane.size() == 40);
  for (const auto& [key, ns] : calls.started_by_lane) CHECK_MESSAGE(increasing(ns), "key " << key);
  CHECK(calls.most_at_once > 4);  // calls of different keys did run at the same time
  CHECK(calls.lanes_overlapped.size() > 10);
  // The outputs, keyed like their inputs, come out in each key's order too.
  std::map<std::string, std::vector<int>> output_order;
  for (const auto& output : outputs) output_order[*output.key].push_back(nlohmann::json::parse(output.value)["n"]);
  for (const auto& [key, ns] : output_order) CHECK_MESSAGE(increasing(ns), "outputs of key " << key);
}

TEST_CASE("KERNEL_ORDERING=key: null keys are ordered by partition") {
  Calls calls;
  auto spec = recording_kernel("conc-null", calls, partition_of, 2000us);
  kernel::testing::KernelFixture fixture(
      spec, {{env_var::KERNEL_CONCURRENCY, "8"}, {env_var::KAFKA_CONSUMER_GROUP, "conc-null"}});
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < 200; ++n) {
    kernel::jsonl::Record r;  // no key
    r.value = nlohmann::json{{"n", n}}.dump();
    r.partition = n % 4;
    records.push_back(r);
  }
  kernel::detail::produce_records(fixture.bootstrap_servers(), "conc-null.in", records);
  fixture.outputs(200, 60s);

  std::lock_guard lock(calls.mutex);
  CHECK(calls.overlapping_same_lane == 0);  // never two null-key calls of one partition at once
  CHECK(calls.started_by_lane.size() == 4);
  for (const auto& [partition, ns] : calls.started_by_lane) CHECK_MESSAGE(increasing(ns), partition);
  CHECK(calls.most_at_once > 1);  // the partitions ran side by side
}

TEST_CASE("KERNEL_ORDERING=partition runs one call per partition; none runs a partition's keys freely") {
  Calls calls;
  std::string ordering;
  SUBCASE("partition") { ordering = "partition"; }
  SUBCASE("none") { ordering = "none"; }
  const auto name = "conc-" + ordering;
  auto spec = recording_kernel(name, calls, partition_of, 2000us);
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_CONCURRENCY, "8"},
                                                {env_var::KERNEL_ORDERING, ordering},
                                                {env_var::KAFKA_CONSUMER_GROUP, name}});
  kernel::detail::produce_records(fixture.bootstrap_servers(), name + ".in", keyed_records(200, 50));
  fixture.outputs(200, 60s);

  std::lock_guard lock(calls.mutex);
  if (ordering == "partition") {
    CHECK(calls.overlapping_same_lane == 0);
    for (const auto& [partition, ns] : calls.started_by_lane) CHECK_MESSAGE(increasing(ns), partition);
    CHECK(calls.most_at_once > 1);
  } else {
    CHECK(calls.overlapping_same_lane > 0);  // one partition's messages did run at the same time
  }
}

TEST_CASE("a slow call at a low offset holds its partition's commit while later offsets complete") {
  testwait::Gate gate;
  kernel::KernelSpec spec;
  spec.name = "conc-commit";
  spec.input_topics = {"conc-commit.in"};
  spec.output_topic = "conc-commit.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    if (message.key() == "slow") gate.pass(30s);
    context.produce(kernel::Outgoing{}.key(std::string(*message.key())).json(message.json()));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_CONCURRENCY, "4"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "50ms"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "conc-commit"}});
  const auto& servers = fixture.bootstrap_servers();
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < 10; ++n) {
    kernel::jsonl::Record r;
    r.key = n == 0 ? "slow" : "fast-" + std::to_string(n);
    r.value = nlohmann::json{{"n", n}}.dump();
    r.partition = 0;
    records.push_back(r);
  }
  kernel::detail::produce_records(servers, "conc-commit.in", records);
  REQUIRE(gate.wait_for_arrival());
  fixture.outputs(9, 20s);  // offsets 1-9 completed, offset 0 still running

  // A commit round after they completed: partition 1's message is committed...
  kernel::jsonl::Record other;
  other.key = "other";
  other.value = R"({"n": 100})";
  other.partition = 1;
  kernel::detail::produce_records(servers, "conc-commit.in", {other});
  REQUIRE(
      testwait::wait_until([&] { return probe::committed(servers, "conc-commit", "conc-commit.in")[1] == 1; }, 20s));
  // ...and partition 0's commit has not passed its unfinished offset 0.
  CHECK(probe::committed(servers, "conc-commit", "conc-commit.in").at(0) < 0);

  gate.open();
  CHECK(testwait::wait_until([&] { return probe::committed(servers, "conc-commit", "conc-commit.in")[0] == 10; }, 20s));
}

TEST_CASE("an in-place retry holds its key (KERNEL_ORDERING=key) or its partition (partition)") {
  std::string ordering;
  SUBCASE("key") { ordering = "key"; }
  SUBCASE("partition") { ordering = "partition"; }
  std::mutex mutex;
  std::vector<std::string> order;  // "key/n/attempt" by start
  kernel::KernelSpec spec;
  spec.name = "conc-retry-" + ordering;
  spec.input_topics = {spec.name + ".in"};
  spec.output_topic = spec.name + ".out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    const auto n = message.json()["n"].get<int>();
    {
      std::lock_guard lock(mutex);
      order.push_back(std::string(*message.key()) + "/" + std::to_string(n) + "/" + std::to_string(context.attempt()));
    }
    if (n == 0 && context.attempt() == 1) throw kernel::TransientError("service unavailable");
    context.produce(kernel::Outgoing{}.key(std::string(*message.key())).json(message.json()));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_CONCURRENCY, "4"},
                                                {env_var::KERNEL_ORDERING, ordering},
                                                {env_var::KERNEL_RETRY_BACKOFF, "1s"},
                                                {env_var::KERNEL_RETRY_JITTER, "0"},
                                                {env_var::KAFKA_CONSUMER_GROUP, spec.name}});
  // Partition 0: a/0 fails once, a/1 is behind it in its key; b/2 .. e/5 are other keys.
  std::vector<kernel::jsonl::Record> records;
  const std::vector<std::string> keys{"a", "a", "b", "c", "d", "e"};
  for (int n = 0; n < 6; ++n) {
    kernel::jsonl::Record r;
    r.key = keys[n];
    r.value = nlohmann::json{{"n", n}}.dump();
    r.partition = 0;
    records.push_back(r);
  }
  kernel::detail::produce_records(fixture.bootstrap_servers(), spec.name + ".in", records);
  const auto outputs = fixture.outputs(6, 30s);

  std::vector<int> a_outputs;
  for (const auto& output : outputs) {
    if (*output.key == "a") a_outputs.push_back(nlohmann::json::parse(output.value)["n"]);
  }
  CHECK(a_outputs == std::vector<int>{0, 1});  // the key's order survives its retry
  std::lock_guard lock(mutex);
  REQUIRE(order.size() == 7);
  const auto at = [&](const std::string& call) { return std::find(order.begin(), order.end(), call) - order.begin(); };
  CHECK(at("a/0/2") < at("a/1/1"));  // the key's next message waited for the retry
  if (ordering == "key") {
    CHECK(at("e/5/1") < at("a/0/2"));  // the partition's other keys went on meanwhile
  } else {
    CHECK(at("a/0/2") < at("b/2/1"));  // the whole partition waited
  }
}

TEST_CASE("circuit breaker with workers: nothing queued starts while it is open; all handled in key order after") {
  std::atomic<bool> outage{true};
  std::mutex mutex;
  std::vector<std::int64_t> started_us;             // wall clock of each call's start
  std::map<std::string, std::vector<int>> handled;  // key -> n of its successful calls, in order
  kernel::KernelSpec spec;
  spec.name = "conc-breaker";
  spec.input_topics = {"conc-breaker.in"};
  spec.output_topic = "conc-breaker.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    {
      std::lock_guard lock(mutex);
      started_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
    }
    if (outage.load()) {
      std::this_thread::sleep_for(5ms);  // simulated I/O: a downstream that answers slowly, then refuses
      throw kernel::TransientError("service unavailable");
    }
    const auto n = message.json()["n"].get<int>();
    const auto key = std::string(*message.key());
    {
      std::lock_guard lock(mutex);
      handled[key].push_back(n);
    }
    context.produce(kernel::Outgoing{}.key(key).json({{"n", n}}));
  };
  constexpr int workers = 8;
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_CONCURRENCY, std::to_string(workers)},
                                                {env_var::KERNEL_BREAKER_THRESHOLD, "3"},
                                                {env_var::KERNEL_BREAKER_COOLDOWN, "1s"},
                                                {env_var::KERNEL_BREAKER_COOLDOWN_MAX, "1s"},
                                                {env_var::KERNEL_RETRY_BACKOFF, "20ms"},
                                                {env_var::KERNEL_RETRY_JITTER, "0"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                                {env_var::KERNEL_HTTP_PORT, "0"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "conc-breaker"}});
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(10s);
  auto circuit = [&] { return nlohmann::json::parse(client.Get("/admin/status")->body)["circuit"]; };
  const auto& servers = fixture.bootstrap_servers();
  // 40 keys: far more lanes ready to start than workers, so calls wait in the pool's queue.
  constexpr int count = 400;
  constexpr int keys = 40;
  kernel::detail::produce_records(servers, "conc-breaker.in", keyed_records(count, keys));

  // An opening, then the next one (its probe failed: the outage goes on).
  nlohmann::json first;
  REQUIRE(testwait::wait_until(
      [&] {
        first = circuit();
        return first["state"] == "open";
      },
      20s));
  nlohmann::json next;
  REQUIRE(testwait::wait_until(
      [&] {
        next = circuit();
        return next["state"] == "open" && next["opened_at"] != first["opened_at"];
      },
      20s));
  outage = false;
  CAPTURE(first.dump());
  CAPTURE(next.dump());
  const auto opened_ms = kernel::detail::parse_rfc3339(first["opened_at"].get<std::string>());
  const auto reopened_ms = kernel::detail::parse_rfc3339(next["opened_at"].get<std::string>());
  {
    // Calls started from 1 ms after it opened to when it opened again: the ones already
    // running on a worker (at most one per worker, none queued) and the probe.
    std::lock_guard lock(mutex);
    const auto started_while_open = std::count_if(started_us.begin(), started_us.end(), [&](std::int64_t us) {
      return us >= (opened_ms + 1) * 1000 && us < reopened_ms * 1000;
    });
    CHECK(started_while_open <= workers + 1);
  }

  // After the outage: every message handled and committed, none dead-lettered, each key in order.
  const auto outputs = fixture.outputs(count, 60s);
  CHECK(outputs.size() == count);
  CHECK(fixture.read_topic("conc-breaker.dlq", 0, 1s).empty());
  const auto ends = probe::high_watermarks(servers, "conc-breaker.in");
  CHECK(testwait::wait_until(
      [&] {
        const auto committed = probe::committed(servers, "conc-breaker", "conc-breaker.in");
        return std::all_of(ends.begin(), ends.end(), [&](const auto& end) {
          return end.second == 0 || (committed.contains(end.first) && committed.at(end.first) == end.second);
        });
      },
      20s));
  CHECK(testwait::wait_until([&] { return circuit()["state"] == "closed"; }, 10s));
  std::map<std::string, std::vector<int>> output_order;
  for (const auto& output : outputs) output_order[*output.key].push_back(nlohmann::json::parse(output.value)["n"]);
  for (const auto& [key, ns] : output_order) CHECK_MESSAGE(increasing(ns), "outputs of key " << key);
  std::lock_guard lock(mutex);
  CHECK(handled.size() == keys);
  for (const auto& [key, ns] : handled) {
    CHECK_MESSAGE(ns.size() == count / keys, "key " << key);  // each message succeeded once
    CHECK_MESSAGE(increasing(ns), "key " << key);
  }
}

TEST_CASE("an operator pause with workers: calls queued for a worker wait for the resume") {
  std::atomic<int> calls{0};
  testwait::Gate gate;
  kernel::KernelSpec spec;
  spec.name = "conc-pause";
  spec.input_topics = {"conc-pause.in"};
  spec.output_topic = "conc-pause.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    ++calls;
    const auto key = std::string(*message.key());
    if (key.starts_with("slow")) gate.pass(30s);
    context.produce(kernel::Outgoing{}.key(key).json(message.json()));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_CONCURRENCY, "2"},
                                                {env_var::KERNEL_HTTP_PORT, "0"},
                                                {env_var::KERNEL_ADMIN_TOKEN, "T"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "conc-pause"}});
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(10s);
  // Two slow calls take both workers; six more keys' calls queue behind them.
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < 8; ++n) {
    kernel::jsonl::Record r;
    r.key = (n < 2 ? "slow-" : "fast-") + std::to_string(n);
    r.value = nlohmann::json{{"n", n}}.dump();
    r.partition = 0;
    records.push_back(r);
  }
  kernel::detail::produce_records(fixture.bootstrap_servers(), "conc-pause.in", records);
  REQUIRE(testwait::wait_until(
      [&] { return calls == 2 && nlohmann::json::parse(client.Get("/admin/status")->body)["in_flight"] == 8; }, 20s));

  const httplib::Headers auth{{"Authorization", "Bearer T"}};
  const auto paused = client.Post("/admin/pause", auth, "", "text/plain");
  REQUIRE(paused);
  REQUIRE(paused->status == 200);
  gate.open();
  CHECK(fixture.outputs(2, 20s).size() == 2);  // the running calls finished and were concluded
  CHECK(calls == 2);                           // nothing queued started meanwhile

  const auto resumed = client.Post("/admin/resume", auth, "", "text/plain");
  REQUIRE(resumed);
  REQUIRE(resumed->status == 200);
  CHECK(fixture.outputs(8, 20s).size() == 8);
  CHECK(calls == 8);
}

TEST_CASE("a second member joining with calls in flight: nothing lost, each key in order within a member") {
  Calls first_calls;
  Calls second_calls;
  auto first_spec = recording_kernel("conc-join", first_calls, key_of, 40000us);
  auto second_spec = recording_kernel("conc-join", second_calls, key_of, 40000us);
  const kernel::Environment environment{{env_var::KERNEL_CONCURRENCY, "8"},
                                        {env_var::KAFKA_CONSUMER_GROUP, "conc-join"},
                                        {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"}};
  kernel::testing::KernelFixture first(first_spec, environment);
  const auto& servers = first.bootstrap_servers();
  constexpr int count = 1600;
  kernel::detail::produce_records(servers, "conc-join.in", keyed_records(count, 40));
  REQUIRE(testwait::wait_until(
      [&] {
        std::lock_guard lock(first_calls.mutex);
        return first_calls.order.size() >= 100;
      },
      20s));
  auto with_servers = environment;
  with_servers[env_var::KAFKA_BOOTSTRAP_SERVERS] = servers;
  kernel::testing::KernelFixture second(second_spec, with_servers, testwait::kRejoinTimeout);  // joins while calls run
  auto more = keyed_records(count + 800, 40);  // and work for both after the rebalance
  more.erase(more.begin(), more.begin() + count);
  kernel::detail::produce_records(servers, "conc-join.in", more);

  // Every input has an output (at least once: a handed-over partition may redo a few).
  std::set<int> seen;
  REQUIRE(testwait::wait_until(
      [&] {
        for (const auto& output : first.read_topic("conc-join.out", 0, 5s)) {
          seen.insert(nlohmann::json::parse(output.value)["n"].get<int>());
        }
        return seen.size() == count + 800;
      },
      60s));
  for (auto* calls : {&first_calls, &second_calls}) {
    std::lock_guard lock(calls->mutex);
    CHECK(calls->overlapping_same_lane == 0);
    for (const auto& [key, ns] : calls->started_by_lane) CHECK_MESSAGE(increasing(ns), "key " << key);
  }
  std::lock_guard lock(second_calls.mutex);
  CHECK(!second_calls.order.empty());  // the second member did take partitions over
}

TEST_CASE("kernel_workers_busy counts the calls running on workers") {
  std::atomic<int> arrived{0};
  testwait::Gate gate;
  kernel::KernelSpec spec;
  spec.name = "conc-busy";
  spec.input_topics = {"conc-busy.in"};
  spec.output_topic = "conc-busy.out";
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    ++arrived;
    gate.pass(30s);
    context.produce(kernel::Outgoing{}.key(std::string(*message.key())).json(message.json()));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_CONCURRENCY, "8"},
                                                {env_var::KERNEL_HTTP_PORT, "0"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "conc-busy"}});
  httplib::Client client("127.0.0.1", fixture.http_port());
  auto busy = [&] {
    const auto response = client.Get("/metrics");
    if (!response) return -1.0;
    const auto at = response->body.find("\nkernel_workers_busy ");
    return at == std::string::npos ? -1.0 : std::stod(response->body.substr(at + 21));
  };
  CHECK(busy() == 0);
  kernel::detail::produce_records(fixture.bootstrap_servers(), "conc-busy.in", keyed_records(5, 5));
  REQUIRE(testwait::wait_until([&] { return arrived == 5; }, 20s));
  CHECK(busy() == 5);  // five keys, five workers waiting in the handler
  gate.open();
  fixture.outputs(5, 20s);
  CHECK(testwait::wait_until([&] { return busy() == 0; }, 10s));
}

TEST_CASE("a key whose call still runs from before a revocation does not start again when its partition comes back") {
  // Each partition's first call hangs (at a gate) past the revocation's deadline. A second
  // member joins and takes some partitions, then leaves: they come back to the first member,
  // whose earlier calls still run. Their keys' new messages must wait for those calls.
  // Each member's own calls: the first member running a key twice at once is the bug (the
  // second member taking over a hung call's message is the handover working as it should).
  Calls calls;
  Calls second_calls;
  testwait::Gate gate;
  std::mutex first_mutex;
  std::set<std::string> started;  // keys whose first call was made (it hangs)
  std::atomic<int> hanging{0};
  auto member = [&](Calls& recorded) {
    kernel::KernelSpec spec;
    spec.name = "conc-back";
    spec.input_topics = {"conc-back.in"};
    spec.output_topic = "conc-back.out";
    spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
      const auto key = std::string(*message.key());
      recorded.enter(key, message.json()["n"].get<int>());
      bool first = false;
      {
        std::lock_guard lock(first_mutex);
        first = started.insert(key).second;
      }
      if (first) {
        ++hanging;
        gate.pass(90s);
      }
      recorded.leave(key);
      context.produce(kernel::Outgoing{}.key(key).json(message.json()));
    };
    return spec;
  };
  const auto spec = member(calls);
  const kernel::Environment environment{{env_var::KERNEL_CONCURRENCY, "8"},
                                        {env_var::KAFKA_CONSUMER_GROUP, "conc-back"},
                                        {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                        {env_var::KERNEL_SHUTDOWN_TIMEOUT, "2s"}};  // the revocation waits no longer
  auto first_environment = environment;
  first_environment[env_var::KERNEL_HTTP_PORT] = "0";
  kernel::testing::KernelFixture first(spec, first_environment);
  const auto servers = first.bootstrap_servers();
  auto on_each_partition = [](int n) {
    std::vector<kernel::jsonl::Record> records;
    for (int partition = 0; partition < 4; ++partition) {
      kernel::jsonl::Record r;
      r.key = "hot" + std::to_string(partition);
      r.value = nlohmann::json{{"n", n + partition}}.dump();
      r.partition = partition;
      records.push_back(r);
    }
    return records;
  };
  kernel::detail::produce_records(servers, "conc-back.in", on_each_partition(0));
  REQUIRE(testwait::wait_until([&] { return hanging == 4; }, 20s));
  {
    auto with_servers = environment;
    with_servers[env_var::KAFKA_BOOTSTRAP_SERVERS] = servers;
    kernel::testing::KernelFixture second(member(second_calls), with_servers,
                                          testwait::kRejoinTimeout);  // takes some, redoes their first message
    REQUIRE(!second.read_topic("conc-back.out", 1, 30s).empty());
    CHECK(second.stop() == kernel::exit_code::ok);  // they come back to the first member
  }
  httplib::Client client("127.0.0.1", first.http_port());
  auto consumed = [&] {
    const auto response = client.Get("/metrics");
    const std::string sample = "\nkernel_messages_consumed_total{topic=\"conc-back.in\"} ";
    const auto at = response ? response->body.find(sample) : std::string::npos;
    return at == std::string::npos ? -1.0 : std::stod(response->body.substr(at + sample.size()));
  };
  const auto before = consumed();
  kernel::detail::produce_records(servers, "conc-back.in", on_each_partition(100));
  // Received by the first member: a key whose earlier call still runs would start now.
  REQUIRE(testwait::wait_until([&] { return consumed() >= before + 4; }, 30s));
  gate.open();
  std::set<int> later;
  REQUIRE(testwait::wait_until(
      [&] {
        for (const auto& output : first.read_topic("conc-back.out", 0, 200ms)) {
          if (const auto n = nlohmann::json::parse(output.value)["n"].get<int>(); n >= 100) later.insert(n);
        }
        return later.size() == 4;
      },
      30s));
  std::lock_guard lock(calls.mutex);
  CHECK(calls.overlapping_same_lane == 0);
}

}  // namespace concurrency_test
