// From settings to librdkafka properties, read back from a real rd_kafka_conf_t.
#include <doctest/doctest.h>

#include <algorithm>

#include <librdkafka/rdkafka.h>

#include "config/settings.hpp"
#include "kernel/detail/rdkafka_handles.hpp"

#include "config_problems.hpp"

namespace config_properties_test {

using namespace kernel;

namespace {

const KernelDefaults kernel_defaults{"props-kernel", {"in"}, std::nullopt};

Config load(Environment env) {
  env.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092");
  return Config::load(kernel_defaults, env, RunMode::production, "/nonexistent-dir/.env");
}

std::string only_problem(Environment env) {
  return config_problems::only_problem_from([&] { load(std::move(env)); });
}

// The effective value as librdkafka holds it, not as our list says.
std::string effective(const std::vector<Property>& properties, const char* name) {
  detail::ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& p : properties) {
    REQUIRE_MESSAGE(
        rd_kafka_conf_set(conf.get(), p.name.c_str(), p.value.c_str(), error, sizeof error) == RD_KAFKA_CONF_OK,
        p.name);
  }
  char value[4096];
  size_t size = sizeof value;
  REQUIRE(rd_kafka_conf_get(conf.get(), name, value, &size) == RD_KAFKA_CONF_OK);
  return value;
}

bool has(const std::vector<Property>& properties, std::string_view name) {
  return std::any_of(properties.begin(), properties.end(), [&](const Property& p) { return p.name == name; });
}

}  // namespace

TEST_CASE("config properties: the runtime's needs, read back from librdkafka") {
  const auto config = load({{env_var::KAFKA_CONSUMER_SESSION_TIMEOUT, "30s"},
                            {env_var::KAFKA_CONSUMER_HEARTBEAT_INTERVAL, "5s"},
                            {env_var::KAFKA_CONSUMER_REBALANCE_TIMEOUT, "2m"},
                            {env_var::KAFKA_CONSUMER_MAX_WAIT, "100ms"},
                            {env_var::KAFKA_CONSUMER_MIN_BYTES, "1KB"},
                            {env_var::KAFKA_CONSUMER_MAX_BYTES, "2MB"},
                            {env_var::KAFKA_CONSUMER_START_OFFSET, "latest"},
                            {env_var::KAFKA_CONSUMER_INSTANCE_ID, "pod-0"},
                            {env_var::KAFKA_PRODUCER_MAX_ATTEMPTS, "5"},
                            {env_var::KAFKA_PRODUCER_BATCH_TIMEOUT, "25ms"},
                            {env_var::KAFKA_PRODUCER_COMPRESSION, "lz4"}});
  const auto consumer = config.consumer_properties();
  CHECK(effective(consumer, "bootstrap.servers") == "broker:9092");
  CHECK(effective(consumer, "group.id") == "props-kernel");
  CHECK(effective(consumer, "client.id") == "props-kernel");
  CHECK(effective(consumer, "group.instance.id") == "pod-0");
  CHECK(effective(consumer, "enable.auto.commit") == "false");
  CHECK(effective(consumer, "enable.auto.offset.store") == "false");
  CHECK(effective(consumer, "partition.assignment.strategy") == "cooperative-sticky");
  CHECK(effective(consumer, "auto.offset.reset") == "largest");
  CHECK(effective(consumer, "session.timeout.ms") == "30000");
  CHECK(effective(consumer, "heartbeat.interval.ms") == "5000");
  CHECK(effective(consumer, "max.poll.interval.ms") == "120000");
  CHECK(effective(consumer, "fetch.wait.max.ms") == "100");
  CHECK(effective(consumer, "fetch.min.bytes") == "1000");
  CHECK(effective(consumer, "fetch.max.bytes") == "2000000");
  CHECK(effective(consumer, "queued.max.messages.kbytes") == "16384");
  CHECK(effective(consumer, "security.protocol") == "plaintext");
  CHECK_FALSE(has(consumer, "acks"));
  CHECK_FALSE(has(consumer, "linger.ms"));

  const auto producer = config.producer_properties();
  CHECK(effective(producer, "enable.idempotence") == "true");
  CHECK(effective(producer, "acks") == "-1");
  CHECK(effective(producer, "retries") == "4");
  CHECK(effective(producer, "linger.ms") == "25");
  CHECK(effective(producer, "compression.type") == "lz4");
  CHECK_FALSE(has(producer, "group.id"));
  CHECK_FALSE(has(producer, "enable.auto.commit"));
}

TEST_CASE("config properties: a producer batch goes out once it holds half the in-flight cap") {
  // Waiting for linger.ms to fill a batch past KAFKA_MAX_POLL_RECORDS would stall a partition.
  CHECK(effective(load({}).producer_properties(), "batch.num.messages") == "250");
  CHECK(effective(load({{env_var::KAFKA_MAX_POLL_RECORDS, "41"}}).producer_properties(), "batch.num.messages") == "20");
  CHECK(effective(load({{env_var::KAFKA_MAX_POLL_RECORDS, "1"}}).producer_properties(), "batch.num.messages") == "1");
  CHECK(effective(load({{env_var::KAFKA_MAX_POLL_RECORDS, "100000"}}).producer_properties(), "batch.num.messages") ==
        "10000");
  CHECK(effective(load({{"KAFKA_PROPERTY_BATCH_NUM_MESSAGES", "5000"}}).producer_properties(), "batch.num.messages") ==
        "5000");
  // KAFKA_MAX_POLL_RECORDS sets it only as a consequence: setting both is not a conflict.
  CHECK(effective(load({{env_var::KAFKA_MAX_POLL_RECORDS, "41"}, {"KAFKA_PROPERTY_BATCH_NUM_MESSAGES", "5000"}})
                      .producer_properties(),
                  "batch.num.messages") == "5000");
  CHECK_FALSE(has(load({}).consumer_properties(), "batch.num.messages"));
}

TEST_CASE("config properties: acks 1 with idempotence off") {
  const auto producer = load({{env_var::KAFKA_PRODUCER_IDEMPOTENCE, "false"},
                              {env_var::KAFKA_PRODUCER_REQUIRE_ACKS, "1"},
                              {env_var::KAFKA_PRODUCER_MAX_ATTEMPTS, "1"}})
                            .producer_properties();
  CHECK(effective(producer, "enable.idempotence") == "false");
  CHECK(effective(producer, "acks") == "1");
  CHECK(effective(producer, "retries") == "0");
}

TEST_CASE("config properties: KAFKA_PROPERTY_ pass-through") {
  SUBCASE("names map with _ to . and __ to _, routed by scope") {
    const auto config = load({{"KAFKA_PROPERTY_LOG__LEVEL", "3"},
                              {"KAFKA_PROPERTY_SOCKET_KEEPALIVE_ENABLE", "true"},
                              {"KAFKA_PROPERTY_MESSAGE_TIMEOUT_MS", "60000"},
                              {"KAFKA_PROPERTY_FETCH_ERROR_BACKOFF_MS", "100"},
                              {"KAFKA_PROPERTY_QUEUED_MAX_MESSAGES_KBYTES", "4096"}});
    const auto consumer = config.consumer_properties();
    const auto producer = config.producer_properties();
    CHECK(effective(consumer, "log_level") == "3");
    CHECK(effective(producer, "log_level") == "3");
    CHECK(effective(consumer, "socket.keepalive.enable") == "true");
    CHECK(effective(producer, "message.timeout.ms") == "60000");
    CHECK_FALSE(has(consumer, "message.timeout.ms"));
    CHECK(effective(consumer, "fetch.error.backoff.ms") == "100");
    CHECK_FALSE(has(producer, "fetch.error.backoff.ms"));
    // Overrides the runtime's modest default in place.
    CHECK(effective(consumer, "queued.max.messages.kbytes") == "4096");
    CHECK(std::count_if(consumer.begin(), consumer.end(),
                        [](const Property& p) { return p.name == "queued.max.messages.kbytes"; }) == 1);
    CHECK(config.source_of("KAFKA_PROPERTY_LOG__LEVEL") == "env");
  }
  SUBCASE("a tuning property without its own variable set") {
    CHECK(effective(load({{"KAFKA_PROPERTY_LINGER_MS", "7"}}).producer_properties(), "linger.ms") == "7");
  }
  SUBCASE("unknown property") {
    CHECK(only_problem({{"KAFKA_PROPERTY_LINGER_MSS", "5"}}) ==
          "config error: KAFKA_PROPERTY_LINGER_MSS=\"5\": unknown librdkafka property "
          "linger.mss; did you mean linger.ms?");
  }
  SUBCASE("properties that would break at-least-once name what to use") {
    CHECK(only_problem({{"KAFKA_PROPERTY_ACKS", "0"}}).find("use KAFKA_PRODUCER_REQUIRE_ACKS") != std::string::npos);
    CHECK(only_problem({{"KAFKA_PROPERTY_ENABLE_IDEMPOTENCE", "false"}}).find("use KAFKA_PRODUCER_IDEMPOTENCE") !=
          std::string::npos);
    CHECK(only_problem({{"KAFKA_PROPERTY_ENABLE_AUTO_COMMIT", "true"}}).find("commits only") != std::string::npos);
    CHECK(only_problem({{"KAFKA_PROPERTY_ENABLE_AUTO_OFFSET_STORE", "true"}}).find("cannot be changed") !=
          std::string::npos);
    CHECK(only_problem({{"KAFKA_PROPERTY_SASL_PASSWORD", "pw"}}) ==
          "config error: KAFKA_PROPERTY_SASL_PASSWORD: sasl.password is set by the runtime; use "
          "KAFKA_SASL_PASSWORD instead (value hidden)");
  }
  SUBCASE("a property and its own variable both set") {
    CHECK(only_problem({{"KAFKA_PROPERTY_LINGER_MS", "7"}, {env_var::KAFKA_PRODUCER_BATCH_TIMEOUT, "5ms"}})
              .find("also set by KAFKA_PRODUCER_BATCH_TIMEOUT") != std::string::npos);
  }
}

TEST_CASE("config properties: librdkafka's own limits in our variables' names") {
  SUBCASE("librdkafka's range, in the variable's unit") {
    CHECK(only_problem({{env_var::KAFKA_CONSUMER_MAX_WAIT, "10m"}}) ==
          "config error: KAFKA_CONSUMER_MAX_WAIT=\"10m\": too large for fetch.wait.max.ms, which "
          "takes 0 to 300000 ms");
  }
  SUBCASE("a pass-through value refused") {
    CHECK(only_problem({{"KAFKA_PROPERTY_SOCKET_KEEPALIVE_ENABLE", "perhaps"}})
              .starts_with("config error: KAFKA_PROPERTY_SOCKET_KEEPALIVE_ENABLE=\"perhaps\": "));
  }
  SUBCASE("fetch.max.bytes below a raised message.max.bytes") {
    CHECK(only_problem({{"KAFKA_PROPERTY_MESSAGE_MAX_BYTES", "20000000"}})
              .starts_with("config error: KAFKA_CONSUMER_MAX_BYTES=\"10MB\": must be at least "
                           "message.max.bytes (20MB)"));
  }
  SUBCASE("a cross-property check rd_kafka_new makes") {
    // Idempotence allows at most 5 requests in flight; only creation checks it.
    const auto problem = only_problem({{"KAFKA_PROPERTY_MAX_IN_FLIGHT", "10"}});
    CHECK(problem.starts_with("config error: "));
    CHECK(problem.find("KAFKA_PROPERTY_MAX_IN_FLIGHT") != std::string::npos);
    CHECK(problem.find("librdkafka refuses this configuration") != std::string::npos);
  }
}

TEST_CASE("config properties: order is deterministic") {
  const Environment env{{"KAFKA_PROPERTY_SOCKET_TIMEOUT_MS", "1000"}, {"KAFKA_PROPERTY_LOG__LEVEL", "4"}};
  const auto a = load(env).consumer_properties();
  const auto b = load(env).consumer_properties();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].name == b[i].name);
  CHECK(a.front().name == "bootstrap.servers");
}

TEST_CASE("config properties: SASL settings derive the protocol") {
  const auto config = load({{env_var::KAFKA_SASL_MECHANISM, "SCRAM-SHA-512"},
                            {env_var::KAFKA_SASL_USERNAME, "user"},
                            {env_var::KAFKA_SASL_PASSWORD, "pw-123456"}});
  CHECK(config.settings().security_protocol == SecurityProtocol::sasl_ssl);
  const auto producer = config.producer_properties();
  CHECK(effective(producer, "security.protocol") == "sasl_ssl");
  CHECK(effective(producer, "sasl.mechanisms") == "SCRAM-SHA-512");
  CHECK(effective(producer, "sasl.username") == "user");
  CHECK(load({{env_var::KAFKA_SASL_MECHANISM, "PLAIN"},
              {env_var::KAFKA_SASL_USERNAME, "u"},
              {env_var::KAFKA_SASL_PASSWORD, "p"},
              {env_var::KAFKA_SECURITY_PROTOCOL, "SASL_PLAINTEXT"}})
            .warnings()
            .size() == 1);
  CHECK(only_problem({{env_var::KAFKA_SASL_USERNAME, "u"}, {env_var::KAFKA_SASL_PASSWORD, "p"}})
            .find(env_var::KAFKA_SASL_MECHANISM) != std::string::npos);
  CHECK(only_problem({{env_var::KAFKA_SASL_MECHANISM, "GSSAPI"},
                      {env_var::KAFKA_SASL_USERNAME, "u"},
                      {env_var::KAFKA_SASL_PASSWORD, "p"}})
            .find("expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512") != std::string::npos);
  CHECK(only_problem({{env_var::KAFKA_SASL_MECHANISM, "PLAIN"},
                      {env_var::KAFKA_SASL_USERNAME, "u"},
                      {env_var::KAFKA_SASL_PASSWORD, "p"},
                      {env_var::KAFKA_SECURITY_PROTOCOL, "SSL"}})
            .find("KAFKA_SECURITY_PROTOCOL=\"SSL\"") != std::string::npos);
}

}  // namespace config_properties_test
