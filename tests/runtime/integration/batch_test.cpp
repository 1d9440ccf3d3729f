// KernelSpec::batch_handler on the embedded broker: batch sizes and order, the timeout, retries
// of a whole batch, dead letters, single failures, commits, revocation and shutdown.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include <httplib.h>

#include "broker/record_io.hpp"
#include "kernel/testing.hpp"
#include "probe.hpp"
#include "wait.hpp"

namespace batch_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

kernel::jsonl::Record record(int n, int partition) {
  kernel::jsonl::Record r;
  r.key = "k" + std::to_string(n);
  r.value = nlohmann::json{{"n", n}}.dump();
  r.partition = partition;
  r.headers = {{"event-id", "in-" + std::to_string(n)}};
  return r;
}

/// What each batch handler call saw: its partition, offsets and attempt.
struct Call {
  std::int32_t partition;
  std::vector<std::int64_t> offsets;
  int attempt;
};

class Calls {
 public:
  void add(const kernel::Batch& batch, const kernel::Context& context) {
    Call call{batch.partition(), {}, context.attempt()};
    for (const auto& message : batch) call.offsets.push_back(message.offset());
    std::lock_guard lock(mutex_);
    calls_.push_back(std::move(call));
  }
  std::vector<Call> all() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::size_t messages() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& call : calls_) n += call.offsets.size();
    return n;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Call> calls_;
};

/// Each message's JSON again, under its key.
void echo(kernel::Batch& batch, std::size_t i) {
  batch.produce(i, kernel::Outgoing{}.key(std::string(*batch[i].key())).json(batch[i].json()));
}

kernel::KernelSpec batch_spec(const std::string& name, kernel::BatchHandler handler) {
  kernel::KernelSpec spec;
  spec.name = name;
  spec.input_topics = {name + ".in"};
  spec.output_topic = name + ".out";
  spec.batch_handler = std::move(handler);
  return spec;
}

std::string header(const kernel::jsonl::Record& record, const std::string& name) {
  for (const auto& [key, value] : record.headers) {
    if (key == name) return value;
  }
  return {};
}

double metric(int port, const std::string& series) {
  httplib::Client client("127.0.0.1", port);
  const auto response = client.Get("/metrics");
  if (!response) return -1;
  const auto at = response->body.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(response->body.substr(at + series.size() + 2));
}

}  // namespace

TEST_CASE("a batch holds at most KERNEL_BATCH_SIZE messages of one partition, in offset order") {
  Calls calls;
  auto spec = batch_spec("batch-sizes", [&](kernel::Batch& batch, kernel::Context& context) {
    calls.add(batch, context);
    for (std::size_t i = 0; i < batch.size(); ++i) echo(batch, i);
  });
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_BATCH_SIZE, "7"},
                                                {env_var::KERNEL_BATCH_TIMEOUT, "50ms"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "batch-sizes-group"},
                                                {env_var::KERNEL_HTTP_PORT, "0"}});
  const auto& servers = fixture.bootstrap_servers();
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < 60; ++n) records.push_back(record(n, n % 2));  // 30 on partition 0, 30 on 1
  kernel::detail::produce_records(servers, "batch-sizes.in", records);
  REQUIRE(fixture.outputs(60, 30s).size() == 60);
  REQUIRE(testwait::wait_until(
      [&] {
        const auto committed = probe::committed(servers, "batch-sizes-group", "batch-sizes.in");
        return committed.at(0) == 30 && committed.at(1) == 30;
      },
      20s));

  std::map<std::int32_t, std::vector<std::int64_t>> seen;
  for (const auto& call : calls.all()) {
    CHECK(call.offsets.size() >= 1);
    CHECK(call.offsets.size() <= 7);
    for (std::size_t i = 1; i < call.offsets.size(); ++i) CHECK(call.offsets[i] == call.offsets[i - 1] + 1);
    auto& offsets = seen[call.partition];
    offsets.insert(offsets.end(), call.offsets.begin(), call.offsets.end());
  }
  std::vector<std::int64_t> expected(30);
  for (int i = 0; i < 30; ++i) expected[i] = i;
  CHECK(seen[0] == expected);  // each offset once, in order, across the batches
  CHECK(seen[1] == expected);
  CHECK(metric(fixture.http_port(), "kernel_batch_size_count") == static_cast<double>(calls.all().size()));
  CHECK(metric(fixture.http_port(), "kernel_batch_size_sum") == 60);
}

TEST_CASE("KERNEL_BATCH_TIMEOUT hands over a partial batch") {
  Calls calls;
  auto spec = batch_spec("batch-timeout", [&](kernel::Batch& batch, kernel::Context& context) {
    calls.add(batch, context);
    for (std::size_t i = 0; i < batch.size(); ++i) echo(batch, i);
  });
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_BATCH_TIMEOUT, "300ms"}});
  const auto started = std::chrono::steady_clock::now();
  kernel::detail::produce_records(fixture.bootstrap_servers(), "batch-timeout.in", {record(0, 0), record(1, 0)});
  REQUIRE(fixture.outputs(2, 20s).size() == 2);
  CHECK(std::chrono::steady_clock::now() - started >= 300ms);  // not before the timeout
  CHECK(calls.messages() == 2);
  for (const auto& call : calls.all()) CHECK(call.offsets.size() < 500);
}

TEST_CASE("a whole batch failing transiently is retried as a batch, then succeeds") {
  Calls calls;
  auto spec = batch_spec("batch-retry", [&](kernel::Batch& batch, kernel::Context& context) {
    calls.add(batch, context);
    if (context.attempt() < 3) throw kernel::TransientError("database unavailable");
    for (std::size_t i = 0; i < batch.size(); ++i) echo(batch, i);
  });
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_BATCH_SIZE, "5"},
                                                {env_var::KERNEL_BATCH_TIMEOUT, "10s"},
                                                {env_var::KERNEL_RETRY_BACKOFF, "50ms"},
                                                {env_var::KERNEL_RETRY_JITTER, "0"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "batch-retry-group"}});
  const auto& servers = fixture.bootstrap_servers();
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < 5; ++n) records.push_back(record(n, 0));
  kernel::detail::produce_records(servers, "batch-retry.in", records);
  const auto outputs = fixture.outputs(5, 20s);
  for (const auto& output : outputs) CHECK(header(output, "retry-count") == "2");
  const auto all = calls.all();
  REQUIRE(all.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(all[i].attempt == i + 1);
    CHECK(all[i].offsets == std::vector<std::int64_t>{0, 1, 2, 3, 4});
  }
  CHECK(testwait::wait_until([&] { return probe::committed(servers, "batch-retry-group", "batch-retry.in")[0] == 5; },
                             20s));
}

TEST_CASE("a whole batch failing permanently dead-letters each message with the batch's error") {
  auto spec = batch_spec("batch-permanent", [](kernel::Batch&, kernel::Context&) {
    throw kernel::PermanentError("the bulk insert was refused: schema mismatch");
  });
  SUBCASE("permanent") {
    kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_BATCH_SIZE, "3"}});
    kernel::detail::produce_records(fixture.bootstrap_servers(), "batch-permanent.in",
                                    {record(0, 0), record(1, 0), record(2, 0)});
    const auto letters = fixture.dead_letters(3, 20s);
    std::set<std::string> offsets;
    for (const auto& letter : letters) {
      CHECK(header(letter, "dlq-error-class") == "permanent");
      CHECK(header(letter, "dlq-failure-reason") == "processing_error");
      CHECK(header(letter, "dlq-error-message") == "the bulk insert was refused: schema mismatch");
      offsets.insert(header(letter, "dlq-original-offset"));
    }
    CHECK(offsets == std::set<std::string>{"0", "1", "2"});
  }
  SUBCASE("transient, out of retries: retries_exhausted") {
    spec.batch_handler = [](kernel::Batch&, kernel::Context&) { throw kernel::TransientError("still down"); };
    kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_BATCH_SIZE, "2"},
                                                  {env_var::KAFKA_CONSUMER_MAX_RETRIES, "1"},
                                                  {env_var::KERNEL_RETRY_BACKOFF, "20ms"},
                                                  {env_var::KERNEL_BREAKER_THRESHOLD, "0"}});
    kernel::detail::produce_records(fixture.bootstrap_servers(), "batch-permanent.in", {record(0, 0), record(1, 0)});
    const auto letters = fixture.dead_letters(2, 20s);
    for (const auto& letter : letters) {
      CHECK(header(letter, "dlq-failure-reason") == "retries_exhausted");
      CHECK(header(letter, "dlq-error-class") == "transient");
    }
  }
}

TEST_CASE("batch.fail(i) dead-letters only message i; the others' outputs go out, caused by their input") {
  auto spec = batch_spec("batch-fail-one", [](kernel::Batch& batch, kernel::Context&) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      echo(batch, i);
      if (batch[i].json()["n"] == 2) batch.fail(i, kernel::PermanentError("row 2 violates a constraint"));
    }
  });
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_BATCH_SIZE, "5"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "batch-fail-one-group"}});
  const auto& servers = fixture.bootstrap_servers();
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < 5; ++n) records.push_back(record(n, 0));
  kernel::detail::produce_records(servers, "batch-fail-one.in", records);
  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  CHECK(header(letters[0], "dlq-original-offset") == "2");
  CHECK(header(letters[0], "dlq-error-message") == "row 2 violates a constraint");
  const auto outputs = fixture.read_topic("batch-fail-one.out", 4, 20s);
  REQUIRE(outputs.size() == 4);
  for (const auto& output : outputs) {
    const auto n = nlohmann::json::parse(output.value)["n"].get<int>();
    CHECK(n != 2);
    CHECK(header(output, "causation-id") == "in-" + std::to_string(n));
  }
  CHECK(testwait::wait_until(
      [&] { return probe::committed(servers, "batch-fail-one-group", "batch-fail-one.in")[0] == 5; }, 20s));
}

TEST_CASE("a message failed transiently alone is retried in a follow-up batch; commits wait for it") {
  Calls calls;
  std::atomic<bool> release{false};
  auto spec = batch_spec("batch-follow-up", [&](kernel::Batch& batch, kernel::Context& context) {
    calls.add(batch, context);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].offset() == 1 && !release) {
        batch.fail(i, kernel::TransientError("row 1 is locked"));
        continue;
      }
      echo(batch, i);
    }
  });
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_BATCH_SIZE, "4"},
                                                {env_var::KERNEL_BATCH_TIMEOUT, "10s"},  // the first batch: all four
                                                {env_var::KERNEL_RETRY_BACKOFF, "200ms"},
                                                {env_var::KERNEL_RETRY_BACKOFF_MAX, "200ms"},
                                                {env_var::KERNEL_RETRY_JITTER, "0"},
                                                {env_var::KAFKA_CONSUMER_MAX_RETRIES, "100"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "50ms"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "batch-follow-up-group"}});
  const auto& servers = fixture.bootstrap_servers();
  kernel::detail::produce_records(servers, "batch-follow-up.in",
                                  {record(0, 0), record(1, 0), record(2, 0), record(3, 0)});
  // The others are out while offset 1 keeps failing; the commit stays at 1 meanwhile.
  REQUIRE(fixture.read_topic("batch-follow-up.out", 3, 20s).size() == 3);
  REQUIRE(testwait::wait_until([&] { return calls.all().size() >= 3; }, 20s));
  const auto committed = probe::committed(servers, "batch-follow-up-group", "batch-follow-up.in")[0];
  CHECK(committed <= 1);
  release = true;
  REQUIRE(testwait::wait_until(
      [&] { return probe::committed(servers, "batch-follow-up-group", "batch-follow-up.in")[0] == 4; }, 20s));
  const auto all = calls.all();
  CHECK(all[0].offsets == std::vector<std::int64_t>{0, 1, 2, 3});
  for (std::size_t i = 1; i < all.size(); ++i) {
    CHECK(all[i].offsets == std::vector<std::int64_t>{1});  // only the failed one, again
    CHECK(all[i].attempt == static_cast<int>(i) + 1);
  }
  const auto outputs = fixture.read_topic("batch-follow-up.out", 4, 20s);
  REQUIRE(outputs.size() == 4);
  for (const auto& output : outputs) {
    const auto n = nlohmann::json::parse(output.value)["n"].get<int>();
    CHECK(header(output, "causation-id") == "in-" + std::to_string(n));
    if (n == 1) CHECK(header(output, "retry-count") == std::to_string(all.size() - 1));
  }
}

TEST_CASE("a revoked partition's collected batch is dropped, not committed, and handled by its next owner") {
  Calls first_calls, second_calls;
  auto handler_of = [](Calls& calls) {
    return [&calls](kernel::Batch& batch, kernel::Context& context) {
      calls.add(batch, context);
      for (std::size_t i = 0; i < batch.size(); ++i) echo(batch, i);
    };
  };
  const kernel::Environment environment{{env_var::KAFKA_CONSUMER_GROUP, "batch-revoke-group"},
                                        {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"},
                                        {env_var::KERNEL_BATCH_TIMEOUT, "1h"},  // collected until revoked
                                        {env_var::KERNEL_SHUTDOWN_TIMEOUT, "5s"},
                                        // The first member notices the second's join soon.
                                        {env_var::KAFKA_CONSUMER_SESSION_TIMEOUT, "3s"},
                                        {env_var::KAFKA_CONSUMER_HEARTBEAT_INTERVAL, "300ms"},
                                        {env_var::KERNEL_HTTP_PORT, "0"}};
  kernel::testing::KernelFixture first(batch_spec("batch-revoke", handler_of(first_calls)), environment);
  const auto& servers = first.bootstrap_servers();
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < 8; ++n) records.push_back(record(n, n % 4));  // two on each of the 4 partitions
  kernel::detail::produce_records(servers, "batch-revoke.in", records);
  REQUIRE(testwait::wait_until(
      [&] { return metric(first.http_port(), "kernel_messages_consumed_total{topic=\"batch-revoke.in\"}") == 8; },
      20s));
  CHECK(first_calls.messages() == 0);  // all collected, none handed over

  auto second_environment = environment;
  second_environment[env_var::KAFKA_BOOTSTRAP_SERVERS] = servers;
  second_environment[env_var::KERNEL_BATCH_TIMEOUT] = "50ms";
  kernel::testing::KernelFixture second(batch_spec("batch-revoke", handler_of(second_calls)), second_environment,
                                        testwait::kRejoinTimeout);
  // The second member handles what it was given: the first member's collected messages of
  // those partitions, delivered again (not committed by the first).
  REQUIRE(testwait::wait_until([&] { return second_calls.messages() >= 2; }, 30s));
  std::set<std::int32_t> moved;
  for (const auto& call : second_calls.all()) moved.insert(call.partition);
  for (const auto& call : first_calls.all()) CHECK(moved.count(call.partition) == 0);
  // The first member, stopped, hands over what it still holds, then commits.
  CHECK(first.stop() == kernel::exit_code::ok);
  REQUIRE(testwait::wait_until(
      [&] {
        const auto committed = probe::committed(servers, "batch-revoke-group", "batch-revoke.in");
        return std::all_of(committed.begin(), committed.end(), [](const auto& kv) { return kv.second == 2; });
      },
      30s));
  std::set<int> handled;
  for (const auto& output : second.read_topic("batch-revoke.out", 8, 20s)) {
    handled.insert(nlohmann::json::parse(output.value)["n"].get<int>());
  }
  CHECK(handled.size() == 8);  // nothing lost
}

TEST_CASE("stopping with a partly collected batch hands it over, then commits: nothing is lost") {
  Calls calls;
  auto spec = batch_spec("batch-stop", [&](kernel::Batch& batch, kernel::Context& context) {
    calls.add(batch, context);
    for (std::size_t i = 0; i < batch.size(); ++i) echo(batch, i);
  });
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_BATCH_TIMEOUT, "1h"},
                                                {env_var::KAFKA_CONSUMER_GROUP, "batch-stop-group"},
                                                {env_var::KERNEL_HTTP_PORT, "0"}});
  const auto& servers = fixture.bootstrap_servers();
  kernel::detail::produce_records(servers, "batch-stop.in", {record(0, 0), record(1, 0), record(2, 0)});
  REQUIRE(testwait::wait_until(
      [&] { return metric(fixture.http_port(), "kernel_messages_consumed_total{topic=\"batch-stop.in\"}") == 3; },
      20s));
  CHECK(calls.messages() == 0);
  CHECK(fixture.stop() == kernel::exit_code::ok);
  REQUIRE(calls.all().size() == 1);
  CHECK(calls.all()[0].offsets == std::vector<std::int64_t>{0, 1, 2});
  CHECK(probe::committed(servers, "batch-stop-group", "batch-stop.in")[0] == 3);
  CHECK(fixture.read_topic("batch-stop.out", 3, 10s).size() == 3);
}

TEST_CASE(
    "in a batch handler, batch.trace(i) is message i's trace, its outputs continue it; context.trace() is empty") {
  std::mutex mutex;
  std::map<std::int64_t, std::string> traceparents;  // offset -> batch.trace(i).traceparent()
  std::atomic<bool> context_trace_empty{true};
  auto spec = batch_spec("batch-trace", [&](kernel::Batch& batch, kernel::Context& context) {
    if (!context.trace().empty()) context_trace_empty = false;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      std::lock_guard lock(mutex);
      traceparents[batch[i].offset()] = batch.trace(i).traceparent();
      echo(batch, i);
    }
  });
  kernel::testing::KernelFixture fixture(
      spec, {{env_var::KERNEL_BATCH_SIZE, "3"}, {env_var::KAFKA_CONSUMER_GROUP, "batch-trace-group"}});
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < 3; ++n) {
    auto r = record(n, 0);
    // Three traces: each output must continue its own input's, not the first one's.
    r.headers.add("traceparent",
                  "00-" + std::string(31, 'a') + std::to_string(n + 1) + "-" + std::string(16, 'b') + "-01");
    records.push_back(std::move(r));
  }
  kernel::detail::produce_records(fixture.bootstrap_servers(), "batch-trace.in", records);
  const auto outputs = fixture.read_topic("batch-trace.out", 3, 20s);
  REQUIRE(outputs.size() == 3);
  CHECK(context_trace_empty);
  std::lock_guard lock(mutex);
  REQUIRE(traceparents.size() == 3);
  for (const auto& output : outputs) {
    const auto n = nlohmann::json::parse(output.value)["n"].get<int>();
    const auto& expected = traceparents.at(n);  // offset n holds input n
    CHECK(expected.substr(3, 32) == std::string(31, 'a') + std::to_string(n + 1));
    CHECK(expected.substr(36, 16) != std::string(16, 'b'));  // this handling's span, not the caller's
    CHECK(header(output, "traceparent") == expected);
  }
}

TEST_CASE("a kernel with both handler and batch_handler does not start") {
  auto spec = batch_spec("batch-both", [](kernel::Batch&, kernel::Context&) {});
  spec.handler = [](const kernel::Message&, kernel::Context&) {};
  CHECK_THROWS_WITH([&] { kernel::testing::KernelFixture fixture(spec); }(),
                    doctest::Contains("sets both KernelSpec::handler and KernelSpec::batch_handler"));
}

}  // namespace batch_test
