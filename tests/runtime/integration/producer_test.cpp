// kernel::Producer against the embedded broker: many threads, every future resolved, nothing
// lost or doubled (read back), the broker away for 5 s mid-way, refusals, the standard headers,
// health and metrics.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/timestamp.pb.h>
#include <prometheus/registry.h>

#include <librdkafka/rdkafka_mock.h>

#include "broker/record_io.hpp"
#include "kernel/embedded_broker.hpp"
#include "kernel/env_vars.hpp"
#include "kernel/producer.hpp"
#include "kernel/testing.hpp"
#include "wait.hpp"

namespace producer_test {

namespace env_var = kernel::env_var;
using namespace std::chrono_literals;

namespace {

kernel::Producer producer_on(const kernel::EmbeddedBroker& broker, kernel::ProducerOptions options = {}) {
  return kernel::Producer::from_environment(
      "gateway", {{env_var::KAFKA_BOOTSTRAP_SERVERS, broker.bootstrap_servers()}, {env_var::KERNEL_LOG_LEVEL, "warn"}},
      options);
}

double counter_value(prometheus::Registry& registry, const std::string& name, const std::string& result) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "result" && label.value == result) return metric.counter.value;
      }
    }
  }
  return -1;
}

}  // namespace

TEST_CASE("producer: 100,000 sends from 8 threads, the broker away 5 s mid-way: every future resolves, none lost") {
  kernel::EmbeddedBroker broker;
  broker.create_topic("gateway.events", 4);
  prometheus::Registry registry;
  auto producer = producer_on(broker, {.queue_timeout = 30s, .close_timeout = 10s, .metrics = &registry});
  REQUIRE(producer.healthy());

  constexpr int threads = 8;
  constexpr int per_thread = 12'500;
  std::atomic<int> sent{0};
  std::vector<std::vector<std::future<kernel::DeliveryResult>>> futures(threads);
  std::vector<std::thread> senders;
  for (int t = 0; t < threads; ++t) {
    senders.emplace_back([&, t] {
      futures[t].reserve(per_thread);
      for (int i = 0; i < per_thread; ++i) {
        const auto id = std::to_string(t * per_thread + i);
        futures[t].push_back(producer.send("gateway.events", kernel::Outgoing{}.key("k" + id).text(id)));
        sent.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // Mid-way the broker goes away for 5 s: sends keep being queued, and go out when it is back.
  REQUIRE(testwait::wait_until([&] { return sent.load() >= 30'000; }, 60s));
  REQUIRE(rd_kafka_mock_broker_set_down(broker.cluster(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  CHECK_FALSE(producer.healthy(500ms));
  std::this_thread::sleep_for(5s);  // the outage itself, not a wait for a condition
  REQUIRE(rd_kafka_mock_broker_set_up(broker.cluster(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  for (auto& sender : senders) sender.join();

  std::set<std::string> delivered;
  int transient = 0, other = 0;
  for (auto& of_thread : futures) {
    for (auto& future : of_thread) {
      REQUIRE(future.wait_for(120s) == std::future_status::ready);  // never hangs
      const auto result = future.get();
      if (result.ok()) {
        CHECK(result.topic == "gateway.events");
        CHECK(result.offset >= 0);
        delivered.insert(std::to_string(result.partition) + "@" + std::to_string(result.offset));
      } else if (result.transient) {
        ++transient;
      } else {
        ++other;
      }
    }
  }
  CHECK(other == 0);
  MESSAGE("delivered " << delivered.size() << ", transient failures " << transient);
  CHECK(delivered.size() + static_cast<std::size_t>(transient) == threads * per_thread);
  CHECK(producer.in_flight() == 0);
  CHECK(counter_value(registry, "kernel_producer_records_total", "delivered") == static_cast<double>(delivered.size()));

  // Read back: each delivered record exactly once (idempotent producer: the resends after the
  // outage doubled nothing), with the standard headers.
  const auto records = kernel::detail::read_topic(broker.bootstrap_servers(), "gateway.events", delivered.size(), 60s);
  std::set<std::string> values;
  for (const auto& record : records) values.insert(record.value);
  CHECK(records.size() == delivered.size());
  CHECK(values.size() == delivered.size());
  REQUIRE_FALSE(records.empty());
  CHECK(records.front().headers.get("source") == "gateway");
  CHECK(records.front().headers.get("event-id").has_value());
  CHECK(records.front().headers.get("correlation-id").has_value());
}

TEST_CASE("producer: a topic it may not write is refused at once, with a reason and no retry") {
  kernel::EmbeddedBroker broker;
  auto producer = producer_on(broker);
  const auto bad = producer.send("has space", kernel::Outgoing{}.text("x")).get();
  CHECK_FALSE(bad.ok());
  CHECK_FALSE(bad.transient);
  CHECK(bad.message.find("space") != std::string::npos);
  const auto none = producer.send("", kernel::Outgoing{}.text("x")).get();
  CHECK_FALSE(none.ok());
  CHECK(none.message.find("no topic") != std::string::npos);
}

TEST_CASE("producer: a schema registry value (Outgoing::protobuf) is refused, never sent with schema id 0") {
  kernel::EmbeddedBroker broker;
  auto producer = producer_on(broker);
  google::protobuf::Timestamp stamp;
  stamp.set_seconds(1795000000);
  const auto refused = producer.send("stamps", kernel::Outgoing{}.protobuf(stamp)).get();
  CHECK_FALSE(refused.ok());
  CHECK_FALSE(refused.transient);
  CHECK(refused.message.find("does not register schemas") != std::string::npos);
}

TEST_CASE("producer: send_and_wait gives the delivery, the explicit correlation id and the message's own topic") {
  kernel::EmbeddedBroker broker;
  broker.create_topic("gateway.orders", 1);
  auto producer = producer_on(broker);
  const auto result = producer.send_and_wait(
      "", kernel::Outgoing{}.topic("gateway.orders").json({{"id", 1}}).correlation_id("c-1"), 10s);
  REQUIRE(result.ok());
  CHECK(result.topic == "gateway.orders");
  CHECK(result.offset == 0);
  const auto records = kernel::detail::read_topic(broker.bootstrap_servers(), "gateway.orders", 1, 10s);
  REQUIRE(records.size() == 1);
  CHECK(records[0].headers.get("correlation-id") == "c-1");
  CHECK(records[0].headers.get("content-type") == "application/json");
}

TEST_CASE("producer: a bad setting is refused like a kernel's, naming the variable") {
  try {
    (void)kernel::Producer::from_environment(
        "gateway", {{env_var::KAFKA_BOOTSTRAP_SERVERS, "127.0.0.1:9"}, {env_var::KAFKA_PRODUCER_REQUIRE_ACKS, "0"}});
    FAIL("expected a ConfigError");
  } catch (const kernel::ConfigError& error) {
    REQUIRE(error.problems().size() == 1);
    CHECK(error.problems()[0].find(env_var::KAFKA_PRODUCER_REQUIRE_ACKS) != std::string::npos);
  }
}

TEST_CASE("producer: send with a callback calls it once per record, with the delivery or the refusal") {
  kernel::EmbeddedBroker broker;
  broker.create_topic("gateway.callbacks", 2);
  auto producer = producer_on(broker);
  constexpr int sends = 1000;
  std::atomic<int> delivered{0}, failed{0}, refused{0};
  for (int i = 0; i < sends; ++i) {
    producer.send("gateway.callbacks", kernel::Outgoing{}.key("k" + std::to_string(i)).text("v"),
                  [&](const kernel::DeliveryResult& result) { (result.ok() ? delivered : failed).fetch_add(1); });
  }
  // A refused topic, twice: the second answer comes from the producer's topic cache.
  for (int i = 0; i < 2; ++i) {
    producer.send("has space", kernel::Outgoing{}.text("x"), [&](const kernel::DeliveryResult& result) {
      if (!result.ok() && !result.transient && result.message.find("space") != std::string::npos) refused.fetch_add(1);
    });
  }
  CHECK(refused == 2);  // at once, on the sending thread
  REQUIRE(producer.flush(10s));
  CHECK(delivered == sends);
  CHECK(failed == 0);
  CHECK(producer.in_flight() == 0);
  const auto records = kernel::detail::read_topic(broker.bootstrap_servers(), "gateway.callbacks", sends, 10s);
  CHECK(records.size() == static_cast<std::size_t>(sends));
}

// The handler's calls run on 4 workers, each with its own Context (its input); the producer is
// shared, its topic cache and header stamper behind one lock: each record must carry its own
// input's ids, never another worker's.
TEST_CASE("producer: shared by handlers on 4 workers, each record continues its own input's correlation") {
  std::atomic<kernel::Producer*> shared{nullptr};
  std::atomic<int> running{0}, most_at_once{0};
  kernel::KernelSpec spec;
  spec.name = "producer-in-handler";
  spec.input_topics = {"pih.in"};
  spec.handler = [&](const kernel::Message& message, kernel::Context& context) {
    const int now = running.fetch_add(1) + 1;
    for (int seen = most_at_once.load(); now > seen && !most_at_once.compare_exchange_weak(seen, now);) {
    }
    auto* producer = shared.load();
    const auto result =
        producer
            ? producer->send("pih.side", kernel::Outgoing{}.key(std::string(*message.key())).text("x"), context).get()
            : kernel::DeliveryResult{};
    running.fetch_sub(1);
    if (!producer || !result.ok()) throw kernel::TransientError("not sent: " + result.message);
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KERNEL_CONCURRENCY, "4"}});
  REQUIRE(rd_kafka_mock_topic_create(fixture.mock_cluster(), "pih.side", 4, 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  auto producer = kernel::Producer::from_environment(
      "gateway",
      {{env_var::KAFKA_BOOTSTRAP_SERVERS, fixture.bootstrap_servers()}, {env_var::KERNEL_LOG_LEVEL, "warn"}});
  shared = &producer;
  constexpr int inputs = 200;
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < inputs; ++n) {
    kernel::jsonl::Record r;
    r.key = "k" + std::to_string(n);  // a key each: the calls run side by side
    r.value = "{}";
    r.headers = {{"event-id", "in-" + std::to_string(n)}, {"correlation-id", "corr-" + std::to_string(n)}};
    records.push_back(std::move(r));
  }
  kernel::detail::produce_records(fixture.bootstrap_servers(), "pih.in", records);
  const auto sent = fixture.read_topic("pih.side", inputs, 30s);
  CHECK(fixture.stop() == kernel::exit_code::ok);
  shared = nullptr;
  std::set<std::string> keys;
  for (const auto& record : sent) {
    REQUIRE(record.key.has_value());
    const auto n = record.key->substr(1);
    keys.insert(*record.key);
    std::string correlation, causation;
    for (const auto& [name, value] : record.headers) {
      if (name == "correlation-id") correlation = value;
      if (name == "causation-id") causation = value;
    }
    CHECK(correlation == "corr-" + n);
    CHECK(causation == "in-" + n);
  }
  CHECK(keys.size() == static_cast<std::size_t>(inputs));
  CHECK(most_at_once.load() > 1);  // the calls did overlap
}

}  // namespace producer_test
