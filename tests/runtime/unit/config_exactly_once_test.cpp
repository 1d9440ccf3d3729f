// KERNEL_DELIVERY, KERNEL_INSTANCE_ID and KERNEL_TRANSACTIONAL_ID: what exactly-once asks of the
// configuration and the properties it gives the clients (docs/exactly-once.md).
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <array>

#include "config/settings.hpp"
#include "config/transactional_id.hpp"

#include "config_problems.hpp"

namespace config_exactly_once_test {

using namespace kernel;

namespace {

Config load(Environment env, std::vector<std::string> inputs = {"orders"}) {
  env.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092");
  return Config::load(KernelDefaults{"eos-kernel", std::move(inputs), std::string("eos.out")}, env, RunMode::production,
                      "/nonexistent-dir/.env");
}

std::string value_of(const std::vector<Property>& properties, std::string_view name) {
  const auto it = std::find_if(properties.begin(), properties.end(), [&](const Property& p) { return p.name == name; });
  return it == properties.end() ? "<unset>" : it->value;
}

std::vector<std::string> problems_of(Environment env) {
  return config_problems::problems_from([&] { load(std::move(env)); });
}

}  // namespace

TEST_CASE("KERNEL_DELIVERY defaults to at_least_once: no transactional.id, the consumer's isolation untouched") {
  const auto config = load({});
  CHECK(config.settings().delivery == DeliveryGuarantee::at_least_once);
  CHECK(value_of(config.producer_properties(), "transactional.id") == "<unset>");
  CHECK(value_of(config.consumer_properties(), "isolation.level") == "<unset>");
}

TEST_CASE("exactly_once: a read_committed consumer; the transactional.id is <group>.<sorted inputs>.<instance>") {
  const auto config = load({{env_var::KERNEL_DELIVERY, "exactly_once"},
                            {env_var::KERNEL_INSTANCE_ID, "pod-3"},
                            {env_var::KAFKA_CONSUMER_GROUP, "billing"},
                            {env_var::KAFKA_TOPIC, "payments,orders"}});
  CHECK(transactional_id(config.settings()) == "billing.orders+payments.pod-3");
  CHECK(value_of(config.consumer_properties(), "isolation.level") == "read_committed");
  // Only the loop's own producer gets it: tools sharing the configuration (kernel-admin dlq
  // replay) must never register the id, which would fence the running kernel.
  CHECK(value_of(config.producer_properties(), "transactional.id") == "<unset>");
}

TEST_CASE("KERNEL_TRANSACTIONAL_ID wins; the instance id defaults to the host name") {
  CHECK(transactional_id(
            load({{env_var::KERNEL_DELIVERY, "exactly_once"}, {env_var::KERNEL_TRANSACTIONAL_ID, "fixed-id"}})
                .settings()) == "fixed-id");
  std::array<char, 256> host{};
  REQUIRE(gethostname(host.data(), host.size() - 1) == 0);
  CHECK(transactional_id(load({{env_var::KAFKA_CONSUMER_GROUP, "g"}}).settings()) ==
        std::string("g.orders.") + host.data());
}

TEST_CASE("input topics longer than 100 characters together are named by 16 hex digits of their SHA-256") {
  const std::string a(60, 'a'), b(60, 'b');
  const auto id = transactional_id(load({{env_var::KAFKA_CONSUMER_GROUP, "g"},
                                         {env_var::KERNEL_INSTANCE_ID, "i"},
                                         {env_var::KAFKA_TOPIC, b + "," + a}})
                                       .settings());
  // sha256("aaa...a+bbb...b"), the sorted topics joined by '+'.
  CHECK(id.size() == std::string("g.").size() + 16 + std::string(".i").size());
  CHECK(id.starts_with("g."));
  CHECK(id.ends_with(".i"));
  CHECK(id.substr(2, 16).find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(transactional_id(load({{env_var::KAFKA_CONSUMER_GROUP, "g"},
                               {env_var::KERNEL_INSTANCE_ID, "i"},
                               {env_var::KAFKA_TOPIC, a + "," + b}})
                             .settings()) == id);  // the order topics are given in does not matter
}

TEST_CASE("exactly_once without idempotence is refused (78), naming both variables") {
  const auto problems =
      problems_of({{env_var::KERNEL_DELIVERY, "exactly_once"}, {env_var::KAFKA_PRODUCER_IDEMPOTENCE, "false"}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find(env_var::KERNEL_DELIVERY) != std::string::npos);
  CHECK(problems[0].find("KAFKA_PRODUCER_IDEMPOTENCE=true") != std::string::npos);
}

TEST_CASE("exactly_once refuses a read_uncommitted consumer and a transactional.id by KAFKA_PROPERTY_") {
  auto problems =
      problems_of({{env_var::KERNEL_DELIVERY, "exactly_once"}, {"KAFKA_PROPERTY_ISOLATION_LEVEL", "read_uncommitted"}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("KAFKA_PROPERTY_ISOLATION_LEVEL") != std::string::npos);
  problems = problems_of({{"KAFKA_PROPERTY_TRANSACTIONAL_ID", "x"}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find(env_var::KERNEL_TRANSACTIONAL_ID) != std::string::npos);
}

TEST_CASE("exactly_once: what librdkafka refuses only of a transactional producer is refused at load (78)") {
  // librdkafka checks socket.timeout.ms against transaction.timeout.ms only when the producer
  // has a transactional.id; the loop's producer is checked with it, as it will be created.
  const auto problems =
      problems_of({{env_var::KERNEL_DELIVERY, "exactly_once"}, {"KAFKA_PROPERTY_SOCKET_TIMEOUT_MS", "90000"}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].starts_with("config error: KAFKA_PROPERTY_SOCKET_TIMEOUT_MS=\"90000\": "));
  CHECK(problems[0].find("transaction.timeout.ms") != std::string::npos);
  CHECK(problems_of({{"KAFKA_PROPERTY_SOCKET_TIMEOUT_MS", "90000"}}).empty());  // no transactions: no such limit
}

TEST_CASE("exactly_once: only the loop's producer has the transactional.id, and --print-config shows it") {
  const auto config = load({{env_var::KERNEL_DELIVERY, "exactly_once"},
                            {env_var::KERNEL_INSTANCE_ID, "pod-3"},
                            {env_var::KAFKA_CONSUMER_GROUP, "billing"}});
  CHECK(value_of(config.loop_producer_properties(), "transactional.id") == "billing.orders.pod-3");
  CHECK(value_of(config.producer_properties(), "transactional.id") == "<unset>");
  CHECK(config.describe().find("transactional.id=billing.orders.pod-3") != std::string::npos);
  CHECK(value_of(load({}).loop_producer_properties(), "transactional.id") == "<unset>");
}

TEST_CASE("KERNEL_DELIVERY accepts only its two values") {
  const auto problems = problems_of({{env_var::KERNEL_DELIVERY, "exactly-once"}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("at_least_once") != std::string::npos);
  CHECK(problems[0].find("exactly_once") != std::string::npos);
}

TEST_CASE("exactly_once with worker threads is accepted") {
  CHECK(problems_of({{env_var::KERNEL_DELIVERY, "exactly_once"}, {env_var::KERNEL_CONCURRENCY, "8"}}).empty());
}

}  // namespace config_exactly_once_test
