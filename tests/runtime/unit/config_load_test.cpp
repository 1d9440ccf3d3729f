// Reading variables: defaults, every variable, aliases, modes, .env and problems.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "config/registry.hpp"
#include "config/settings.hpp"

#include "config_problems.hpp"

namespace config_load_test {

using namespace kernel;
using namespace std::chrono_literals;

namespace {

const KernelDefaults orders{"orders-enricher", {"orders"}, std::string("orders.enriched")};
const std::filesystem::path no_dotenv = "/nonexistent-dir/.env";

Config load(Environment env, RunMode mode = RunMode::production, const std::filesystem::path& dotenv = no_dotenv) {
  env.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092");
  return Config::load(orders, env, mode, dotenv);
}

std::vector<std::string> problems_of(Environment env, RunMode mode = RunMode::production) {
  return config_problems::problems_from([&] { load(std::move(env), mode); });
}

std::string only_problem(Environment env) {
  return config_problems::only_problem_from([&] { load(std::move(env)); });
}

bool has_warning(const Config& config, std::string_view text) {
  return std::any_of(config.warnings().begin(), config.warnings().end(),
                     [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("config: defaults match docs/configuration.md") {
  const auto config = load({});
  const auto& s = config.settings();
  CHECK(s.bootstrap_servers == "broker:9092");
  CHECK_FALSE(s.embedded);
  CHECK(s.input_topics == std::vector<std::string>{"orders"});
  CHECK(s.output_topic == "orders.enriched");
  CHECK(s.dlq_topic == "orders-enricher.dlq");
  CHECK(s.group_id == "orders-enricher");
  CHECK(s.client_id == "orders-enricher");
  CHECK(s.security_protocol == SecurityProtocol::plaintext);
  CHECK(s.idempotence);
  CHECK(s.acks == Acks::all);
  CHECK(s.max_attempts == 3);
  CHECK(s.linger == 10ms);
  CHECK(s.compression == Compression::snappy);
  CHECK(s.start_offset == StartOffset::earliest);
  CHECK(s.fetch_min_bytes == 1);
  CHECK(s.fetch_max_bytes == 10'000'000);
  CHECK(s.fetch_max_wait == 500ms);
  CHECK(s.commit_interval == 1s);
  CHECK(s.heartbeat_interval == 3s);
  CHECK(s.session_timeout == 10s);
  CHECK(s.rebalance_timeout == 60s);
  CHECK(s.max_retries == 3);
  CHECK(s.max_poll_records == 500);
  CHECK(s.log_level == LogLevel::info);
  CHECK(s.log_format == LogFormat::text);
  CHECK(s.shutdown_timeout == 25s);
  CHECK(s.startup_timeout == 30s);
  CHECK(s.retry_backoff == 200ms);
  CHECK(s.retry_backoff_max == 30s);
  CHECK(s.retry_multiplier == 2.0);
  CHECK(s.retry_jitter == doctest::Approx(0.2));
  CHECK(s.http_port == 8080);
  CHECK(s.admin_token.empty());
  CHECK(config.warnings().empty());
  CHECK(config.source_of(env_var::KAFKA_BOOTSTRAP_SERVERS) == "env");
  CHECK(config.source_of(env_var::KAFKA_PRODUCER_COMPRESSION) == "default");
  CHECK(config.source_of(env_var::KAFKA_TOPIC) == "code");
}

TEST_CASE("config: every variable is read") {
  const auto config = load({
      {env_var::KAFKA_TOPIC, "a, b,a"},
      {env_var::KAFKA_OUTPUT_TOPIC, "out"},
      {env_var::KAFKA_DLQ_TOPIC, "dead"},
      {env_var::KAFKA_CONSUMER_GROUP, "g"},
      {env_var::KAFKA_CLIENT_ID, "c"},
      {env_var::KAFKA_PRODUCER_IDEMPOTENCE, "no"},
      {env_var::KAFKA_PRODUCER_REQUIRE_ACKS, "1"},
      {env_var::KAFKA_PRODUCER_MAX_ATTEMPTS, "1"},
      {env_var::KAFKA_PRODUCER_BATCH_TIMEOUT, "1m30s"},
      {env_var::KAFKA_PRODUCER_COMPRESSION, "ZSTD"},
      {env_var::KAFKA_CONSUMER_START_OFFSET, "-1"},
      {env_var::KAFKA_CONSUMER_MIN_BYTES, "2KiB"},
      {env_var::KAFKA_CONSUMER_MAX_BYTES, "5MiB"},
      {env_var::KAFKA_CONSUMER_MAX_WAIT, "250ms"},
      {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "2s"},
      {env_var::KAFKA_CONSUMER_HEARTBEAT_INTERVAL, "1s"},
      {env_var::KAFKA_CONSUMER_SESSION_TIMEOUT, "6s"},
      {env_var::KAFKA_CONSUMER_REBALANCE_TIMEOUT, "1m"},
      {env_var::KAFKA_CONSUMER_MAX_RETRIES, "0"},
      {env_var::KAFKA_CONSUMER_INSTANCE_ID, "pod-1"},
      {env_var::KAFKA_MAX_POLL_RECORDS, "7"},
      {env_var::KERNEL_LOG_LEVEL, "debug"},
      {env_var::KERNEL_LOG_FORMAT, "json"},
      {env_var::KERNEL_SHUTDOWN_TIMEOUT, "5s"},
      {env_var::KERNEL_STARTUP_TIMEOUT, "1h"},
      {env_var::KERNEL_RETRY_BACKOFF, "1.5s"},
      {env_var::KERNEL_RETRY_BACKOFF_MAX, "10s"},
      {env_var::KERNEL_RETRY_MULTIPLIER, "1.5"},
      {env_var::KERNEL_RETRY_JITTER, "0"},
      {env_var::KERNEL_HTTP_PORT, "0"},
      {env_var::KERNEL_ADMIN_TOKEN, "tok-123"},
  });
  const auto& s = config.settings();
  CHECK(s.input_topics == std::vector<std::string>{"a", "b"});
  CHECK(s.output_topic == "out");
  CHECK(s.dlq_topic == "dead");
  CHECK(s.group_id == "g");
  CHECK(s.client_id == "c");
  CHECK_FALSE(s.idempotence);
  CHECK(s.acks == Acks::leader);
  CHECK(s.max_attempts == 1);
  CHECK(s.linger == 90s);
  CHECK(s.compression == Compression::zstd);
  CHECK(s.start_offset == StartOffset::latest);
  CHECK(s.fetch_min_bytes == 2048);
  CHECK(s.fetch_max_bytes == 5 * 1024 * 1024);
  CHECK(s.fetch_max_wait == 250ms);
  CHECK(s.commit_interval == 2s);
  CHECK(s.heartbeat_interval == 1s);
  CHECK(s.session_timeout == 6s);
  CHECK(s.rebalance_timeout == 60s);
  CHECK(s.max_retries == 0);
  CHECK(s.instance_id == "pod-1");
  CHECK(s.max_poll_records == 7);
  CHECK(s.log_level == LogLevel::debug);
  CHECK(s.log_format == LogFormat::json);
  CHECK(s.shutdown_timeout == 5s);
  CHECK(s.startup_timeout == 1h);
  CHECK(s.retry_backoff == 1500ms);
  CHECK(s.retry_backoff_max == 10s);
  CHECK(s.retry_multiplier == 1.5);
  CHECK(s.retry_jitter == 0.0);
  CHECK(s.http_port == 0);
  CHECK(s.admin_token == "tok-123");
}

TEST_CASE("config: value types") {
  SUBCASE("a bare duration asks for a unit") {
    CHECK(only_problem({{env_var::KAFKA_CONSUMER_MAX_WAIT, "500"}}) ==
          "config error: KAFKA_CONSUMER_MAX_WAIT=\"500\": expected a duration with a unit, e.g. "
          "500ms or 10s");
  }
  SUBCASE("an unknown duration unit") {
    CHECK(only_problem({{env_var::KERNEL_SHUTDOWN_TIMEOUT, "5 sec"}}).find("units: ms, s, m, h") != std::string::npos);
  }
  SUBCASE("sizes") {
    CHECK(load({{env_var::KAFKA_CONSUMER_MAX_BYTES, "12MB"}}).settings().fetch_max_bytes == 12'000'000);
    CHECK(load({{env_var::KAFKA_CONSUMER_MAX_BYTES, "2000KB"}}).settings().fetch_max_bytes == 2'000'000);
    CHECK(only_problem({{env_var::KAFKA_CONSUMER_MAX_BYTES, "lots"}}) ==
          "config error: KAFKA_CONSUMER_MAX_BYTES=\"lots\": expected a size in bytes, or with KB, "
          "MB, KiB or MiB, e.g. 10MB");
  }
  SUBCASE("booleans") {
    for (const auto* yes : {"true", "1", "yes", "YES"}) {
      CHECK(load({{env_var::KAFKA_PRODUCER_IDEMPOTENCE, yes}}).settings().idempotence);
    }
    CHECK(only_problem({{env_var::KAFKA_PRODUCER_IDEMPOTENCE, "maybe"}}) ==
          "config error: KAFKA_PRODUCER_IDEMPOTENCE=\"maybe\": expected true, false, 1, 0, yes "
          "or no");
  }
  SUBCASE("enums") {
    CHECK(only_problem({{env_var::KAFKA_CONSUMER_START_OFFSET, "sideways"}}) ==
          "config error: KAFKA_CONSUMER_START_OFFSET=\"sideways\": expected earliest, latest, -2 "
          "or -1");
    CHECK(load({{env_var::KAFKA_CONSUMER_START_OFFSET, "-2"}}).settings().start_offset == StartOffset::earliest);
    CHECK(only_problem({{env_var::KAFKA_PRODUCER_COMPRESSION, "brotli"}})
              .find("expected none, gzip, snappy, lz4 or zstd") != std::string::npos);
    CHECK(only_problem({{env_var::KERNEL_LOG_LEVEL, "loud"}}).find("trace, debug, info, warn or error") !=
          std::string::npos);
    CHECK(only_problem({{env_var::KERNEL_LOG_FORMAT, "xml"}}).find("text or json") != std::string::npos);
  }
  SUBCASE("numbers") {
    CHECK(only_problem({{env_var::KAFKA_MAX_POLL_RECORDS, "0"}}).find("at least 1") != std::string::npos);
    CHECK(only_problem({{env_var::KAFKA_CONSUMER_MAX_RETRIES, "-1"}}).find("at least 0") != std::string::npos);
    CHECK(only_problem({{env_var::KERNEL_RETRY_MULTIPLIER, "x"}}).find("expected a number") != std::string::npos);
  }
  SUBCASE("http port") {
    CHECK_FALSE(load({{env_var::KERNEL_HTTP_PORT, "off"}}).settings().http_port.has_value());
    CHECK(load({{env_var::KERNEL_HTTP_PORT, "9000"}}).settings().http_port == 9000);
    CHECK(only_problem({{env_var::KERNEL_HTTP_PORT, "70000"}}).find("off") != std::string::npos);
    CHECK(only_problem({{env_var::KERNEL_HTTP_PORT, "tcp://10.0.0.1:8080"}}).find("Kubernetes") != std::string::npos);
  }
  SUBCASE("http address") {
    CHECK(load({}).settings().http_address == "0.0.0.0");
    CHECK(load({{env_var::KERNEL_HTTP_ADDRESS, "127.0.0.1"}}).settings().http_address == "127.0.0.1");
    CHECK(load({{env_var::KERNEL_HTTP_ADDRESS, "::"}}).settings().http_address == "::");
    for (const char* bad : {"localhost", "0.0.0.0:8080", "300.1.1.1", "http://127.0.0.1"}) {
      CAPTURE(bad);
      CHECK(only_problem({{env_var::KERNEL_HTTP_ADDRESS, bad}}) ==
            std::string("config error: KERNEL_HTTP_ADDRESS=\"") + bad +
                "\": expected an IP address: 0.0.0.0 (all interfaces), 127.0.0.1 (this host only) or another "
                "address of this host");
    }
  }
}

TEST_CASE("config: semantic limits") {
  CHECK(only_problem({{env_var::KAFKA_PRODUCER_REQUIRE_ACKS, "0"}}).find("at-least-once") != std::string::npos);
  CHECK(only_problem({{env_var::KAFKA_PRODUCER_REQUIRE_ACKS, "1"}}).find(env_var::KAFKA_PRODUCER_IDEMPOTENCE) !=
        std::string::npos);
  CHECK(load({{env_var::KAFKA_PRODUCER_REQUIRE_ACKS, "-1"}}).settings().acks == Acks::all);
  CHECK(only_problem({{env_var::KAFKA_PRODUCER_MAX_ATTEMPTS, "1"}}) ==
        "config error: KAFKA_PRODUCER_MAX_ATTEMPTS=\"1\": expected at least 2 with an idempotent "
        "producer (it needs to retry), or set KAFKA_PRODUCER_IDEMPOTENCE=false");
  CHECK(only_problem({{env_var::KAFKA_PRODUCER_MAX_ATTEMPTS, "0"}}).find("at least 1") != std::string::npos);
  CHECK(only_problem({{env_var::KAFKA_CONSUMER_HEARTBEAT_INTERVAL, "10s"}})
            .find("below KAFKA_CONSUMER_SESSION_TIMEOUT") != std::string::npos);
  CHECK(only_problem({{env_var::KAFKA_CONSUMER_REBALANCE_TIMEOUT, "5s"}})
            .find("at least KAFKA_CONSUMER_SESSION_TIMEOUT") != std::string::npos);
  CHECK(only_problem({{env_var::KAFKA_CONSUMER_MAX_BYTES, "1000"}}) ==
        "config error: KAFKA_CONSUMER_MAX_BYTES=\"1000\": must be at least message.max.bytes "
        "(1MB), the largest record a broker may return; expected 1MB or more");
  CHECK(only_problem({{env_var::KERNEL_RETRY_JITTER, "1.5"}}).find("0 to 1") != std::string::npos);
  CHECK(only_problem({{env_var::KERNEL_RETRY_MULTIPLIER, "0.5"}}).find("1.0 or more") != std::string::npos);
  CHECK(only_problem({{env_var::KERNEL_RETRY_BACKOFF, "1m"}}).find(env_var::KERNEL_RETRY_BACKOFF_MAX) !=
        std::string::npos);
}

TEST_CASE("config: aliases") {
  CHECK(Config::load(orders, {{"KAFKA_BROKERS", "b:1"}}, RunMode::production, no_dotenv).settings().bootstrap_servers ==
        "b:1");
  CHECK(load({{"KAFKA_CONSUMER_DLQ_TOPIC", "d"}}).settings().dlq_topic == "d");
  CHECK(load({{"KAFKA_PRODUCER_DLQ_TOPIC", "d"}, {env_var::KAFKA_DLQ_TOPIC, "d"}}).settings().dlq_topic == "d");
  const auto conflict = only_problem({{"KAFKA_BROKERS", "other:9092"}});
  CHECK(conflict.find("KAFKA_BROKERS=\"other:9092\": conflicts with KAFKA_BOOTSTRAP_SERVERS") != std::string::npos);
  CHECK(problems_of({{"KAFKA_CONSUMER_DLQ_TOPIC", "x"}, {"KAFKA_PRODUCER_DLQ_TOPIC", "y"}}).size() == 1);
}

TEST_CASE("config: topics, prefix and names") {
  const auto s = load({{env_var::KAFKA_TOPIC_PREFIX, "dev."}}).settings();
  CHECK(s.topic_prefix == "dev.");
  CHECK(s.input_topics == std::vector<std::string>{"dev.orders"});
  CHECK(s.output_topic == "dev.orders.enriched");
  CHECK(s.dlq_topic == "dev.orders-enricher.dlq");
  CHECK(load({{env_var::KAFKA_TOPIC_PREFIX, "p-"}, {env_var::KAFKA_TOPIC, "x,y"}}).settings().input_topics ==
        std::vector<std::string>{"p-x", "p-y"});
  CHECK(only_problem({{env_var::KAFKA_TOPIC, "bad topic"}})
            .find("contains a space: use letters, digits, '.', '_' and '-'") != std::string::npos);
  CHECK(only_problem({{env_var::KAFKA_OUTPUT_TOPIC, ".."}}).find("reserved") != std::string::npos);
  CHECK(only_problem({{env_var::KAFKA_DLQ_TOPIC, std::string(250, 'a')}}).find("249") != std::string::npos);
  CHECK(only_problem({{env_var::KAFKA_DLQ_TOPIC, "orders"}}).find("input topic") != std::string::npos);
  CHECK(only_problem({{env_var::KAFKA_TOPIC, "a,,b"}}).find("none empty") != std::string::npos);
}

TEST_CASE("config: an output topic that is also an input is refused unless allowed") {
  const std::string loop =
      "config error: KAFKA_OUTPUT_TOPIC=\"orders\": is also an input topic (KAFKA_TOPIC): every output "
      "to orders would be consumed again, an endless loop; expected a topic not in KAFKA_TOPIC, or "
      "KERNEL_ALLOW_OUTPUT_TO_INPUT=true when the handler ends the loop itself";
  SUBCASE("the output set to an input") { CHECK(only_problem({{env_var::KAFKA_OUTPUT_TOPIC, "orders"}}) == loop); }
  SUBCASE("an input set to the compiled-in output") {
    CHECK(only_problem({{env_var::KAFKA_TOPIC, "payments,orders.enriched"}}) ==
          "config error: KAFKA_OUTPUT_TOPIC=\"orders.enriched\": is also an input topic (KAFKA_TOPIC): "
          "every output to orders.enriched would be consumed again, an endless loop; expected a topic not "
          "in KAFKA_TOPIC, or KERNEL_ALLOW_OUTPUT_TO_INPUT=true when the handler ends the loop itself");
  }
  SUBCASE("compared with the prefix applied") {
    const auto problem = only_problem({{env_var::KAFKA_TOPIC_PREFIX, "dev."}, {env_var::KAFKA_OUTPUT_TOPIC, "orders"}});
    CHECK(problem.find("every output to dev.orders") != std::string::npos);
    CHECK(problem.find(env_var::KAFKA_TOPIC) != std::string::npos);
  }
  SUBCASE("allowed explicitly") {
    const auto config =
        load({{env_var::KAFKA_OUTPUT_TOPIC, "orders"}, {env_var::KERNEL_ALLOW_OUTPUT_TO_INPUT, "true"}});
    CHECK(config.settings().allow_output_to_input);
    CHECK(config.settings().output_topic == "orders");
    CHECK(has_warning(config, env_var::KERNEL_ALLOW_OUTPUT_TO_INPUT));
    CHECK(config.source_of(env_var::KERNEL_ALLOW_OUTPUT_TO_INPUT) == "env");
  }
  SUBCASE("the dead-letter topic as an input is refused even then") {
    const auto problem =
        only_problem({{env_var::KAFKA_DLQ_TOPIC, "orders"}, {env_var::KERNEL_ALLOW_OUTPUT_TO_INPUT, "true"}});
    CHECK(problem.starts_with("config error: KAFKA_DLQ_TOPIC=\"orders\": is also an input topic (KAFKA_TOPIC)"));
  }
  SUBCASE("off by default") { CHECK_FALSE(load({}).settings().allow_output_to_input); }
}

TEST_CASE("config: run modes") {
  SUBCASE("production needs brokers and says how to get the embedded one") {
    try {
      Config::load(orders, {}, RunMode::production, no_dotenv);
      FAIL("expected a ConfigError");
    } catch (const ConfigError& error) {
      REQUIRE(error.problems().size() == 1);
      CHECK(error.problems()[0].starts_with("config error: KAFKA_BOOTSTRAP_SERVERS: required"));
      CHECK(error.problems()[0].find("embedded") != std::string::npos);
      CHECK(error.problems()[0].find("--dev") != std::string::npos);
    }
  }
  SUBCASE("dev falls back to the embedded broker") {
    const auto config = Config::load(orders, {}, RunMode::dev, no_dotenv);
    CHECK(config.settings().embedded);
    CHECK(config.settings().bootstrap_servers == "embedded");
    CHECK(Config::load(orders, {{"KAFKA_BROKERS", "b:1"}}, RunMode::dev, no_dotenv).settings().bootstrap_servers ==
          "b:1");
  }
  SUBCASE("embedded in production") {
    CHECK(load({{env_var::KAFKA_BOOTSTRAP_SERVERS, "embedded"}}).settings().embedded);
  }
  SUBCASE("samples always use the embedded broker and say so") {
    const auto config = load({}, RunMode::samples);
    CHECK(config.settings().embedded);
    CHECK_FALSE(config.settings().http_port.has_value());
    CHECK(has_warning(config, "broker:9092"));
    CHECK(load({{env_var::KERNEL_HTTP_PORT, "9100"}}, RunMode::samples).settings().http_port == 9100);
  }
  SUBCASE("a tool needs the kernels' brokers and suggests only ways it takes") {
    try {
      Config::load(orders, {}, RunMode::tool, no_dotenv);
      FAIL("expected a ConfigError");
    } catch (const ConfigError& error) {
      REQUIRE(error.problems().size() == 1);
      CHECK(error.problems()[0].starts_with("config error: KAFKA_BOOTSTRAP_SERVERS: required"));
      CHECK(error.problems()[0].find("KAFKA_BOOTSTRAP_SERVERS=HOST:PORT") != std::string::npos);
      CHECK(error.problems()[0].find("embedded") == std::string::npos);
      CHECK(error.problems()[0].find("--dev") == std::string::npos);
    }
    CHECK(problems_of({{env_var::KAFKA_BOOTSTRAP_SERVERS, "embedded"}}, RunMode::tool) ==
          std::vector<std::string>{"config error: KAFKA_BOOTSTRAP_SERVERS=\"embedded\": a tool needs the brokers your "
                                   "kernels use, not an in-process broker (for kernel-dev-broker, the address it "
                                   "printed first)"});
    CHECK(load({}, RunMode::tool).settings().bootstrap_servers == "broker:9092");
  }
}

TEST_CASE("config: empty values count as unset") {
  const auto config = load({{env_var::KAFKA_CONSUMER_GROUP, ""}, {env_var::KAFKA_PRODUCER_COMPRESSION, ""}});
  CHECK(config.settings().group_id == "orders-enricher");
  CHECK(config.settings().compression == Compression::snappy);
  CHECK_THROWS_AS(Config::load(orders, {{env_var::KAFKA_BOOTSTRAP_SERVERS, ""}}, RunMode::production, no_dotenv),
                  ConfigError);
}

TEST_CASE("config: .env fills what the environment leaves unset") {
  const auto dir = std::filesystem::temp_directory_path() / "kernel-config-dotenv-test";
  std::filesystem::create_directories(dir);
  const auto path = dir / ".env";
  {
    std::ofstream file(path);
    file << "# local settings\n"
            "export KAFKA_BOOTSTRAP_SERVERS=from-dotenv:9092\n"
            "KAFKA_CONSUMER_GROUP=\"dotenv-group\"\n"
            "KAFKA_CLIENT_ID='dotenv-client'\n"
            "KAFKA_PRODUCER_COMPRESSION=lz4 # a comment\n"
            "KAFKA_CONSUMER_INSTANCE_ID=\n"
            "\n";
  }
  const auto config = Config::load(orders, {{env_var::KAFKA_CONSUMER_GROUP, "env-group"}}, RunMode::production, path);
  const auto& s = config.settings();
  CHECK(s.bootstrap_servers == "from-dotenv:9092");
  CHECK(s.group_id == "env-group");
  CHECK(s.client_id == "dotenv-client");
  CHECK(s.compression == Compression::lz4);
  CHECK(s.instance_id.empty());
  CHECK(config.source_of(env_var::KAFKA_BOOTSTRAP_SERVERS) == ".env");
  CHECK(config.source_of(env_var::KAFKA_CONSUMER_GROUP) == "env");
  {
    std::ofstream file(path);
    file << "this is not an assignment\n";
  }
  CHECK_THROWS_WITH_AS(Config::load(orders, {{"KAFKA_BROKERS", "b:1"}}, RunMode::production, path),
                       "config error: .env line 1: expected NAME=value, NAME=\"value\" or a # "
                       "comment",
                       ConfigError);
  std::filesystem::remove_all(dir);
}

TEST_CASE("config: every problem is reported at once") {
  const auto problems = problems_of({{env_var::KAFKA_CONSUMER_START_OFFSET, "sideways"},
                                     {env_var::KAFKA_CONSUMER_MAX_WAIT, "5"},
                                     {env_var::KAFKA_PRODUCER_REQUIRE_ACKS, "0"},
                                     {env_var::KERNEL_LOG_FORMAT, "xml"},
                                     {"KAFKA_PROPERTY_ACKS", "1"}});
  CHECK(problems.size() == 5);
  for (const auto& line : problems) CHECK(line.starts_with("config error: "));
  try {
    load({{env_var::KAFKA_CONSUMER_MAX_WAIT, "5"}, {env_var::KERNEL_LOG_FORMAT, "xml"}});
  } catch (const ConfigError& error) {
    CHECK(std::string(error.what()).find('\n') != std::string::npos);
  }
}

TEST_CASE("config: unknown variables get the closest known name") {
  const auto config = load({{"KAFKA_CONSUMR_GROUP", "x"}, {"KERNEL_LOG_LEVL", "debug"}});
  CHECK(has_warning(config, "unknown variable KAFKA_CONSUMR_GROUP: did you mean KAFKA_CONSUMER_GROUP?"));
  CHECK(has_warning(config, "did you mean KERNEL_LOG_LEVEL?"));
}

TEST_CASE("config: Kubernetes service variables are not warned about") {
  const auto config = load({{"KAFKA_SERVICE_HOST", "10.0.0.1"},
                            {"KAFKA_SERVICE_PORT", "9092"},
                            {"KAFKA_SERVICE_PORT_TCP_CLIENT", "9092"},
                            {"KAFKA_PORT", "tcp://10.0.0.1:9092"},
                            {"KAFKA_PORT_9092_TCP", "tcp://10.0.0.1:9092"},
                            {"KAFKA_PORT_9092_TCP_ADDR", "10.0.0.1"},
                            {"KAFKA_BROKER_SERVICE_HOST", "10.0.0.2"},
                            {"KERNEL_DB_PORT_5432_TCP_PORT", "5432"},
                            {"KAFKA_PROPERTY_LINGER_MS", "5"}});
  CHECK(config.warnings().empty());
}

TEST_CASE("config: KAFKA_PRODUCER_ASYNC is accepted with a notice") {
  CHECK(has_warning(load({{env_var::KAFKA_PRODUCER_ASYNC, "false"}}), env_var::KAFKA_PRODUCER_ASYNC));
  CHECK(only_problem({{env_var::KAFKA_PRODUCER_ASYNC, "sometimes"}}).find("expected true") != std::string::npos);
}

TEST_CASE("config: KAFKA_CONSUMER_MAX_RETRIES given with retry topics gets a warning: it changes nothing") {
  const auto warned = load({{env_var::KERNEL_RETRY_TOPICS, "1s,10s"}, {env_var::KAFKA_CONSUMER_MAX_RETRIES, "5"}});
  CHECK(
      has_warning(warned, "KAFKA_CONSUMER_MAX_RETRIES is ignored with KERNEL_RETRY_TOPICS: a message gets 3 attempts"));
  CHECK_FALSE(has_warning(load({{env_var::KERNEL_RETRY_TOPICS, "1s,10s"}}), env_var::KAFKA_CONSUMER_MAX_RETRIES));
  CHECK_FALSE(has_warning(load({{env_var::KAFKA_CONSUMER_MAX_RETRIES, "5"}}), env_var::KAFKA_CONSUMER_MAX_RETRIES));
}

TEST_CASE("config: from_settings validates the same way and mutators") {
  Settings settings;
  settings.kernel_name = "k";
  settings.bootstrap_servers = "embedded";
  settings.input_topics = {"in"};
  settings.dlq_topic = "k.dlq";
  settings.group_id = settings.client_id = "k";
  auto config = Config::from_settings(settings);
  CHECK(config.settings().embedded);
  config.use_bootstrap_servers("127.0.0.1:1234");
  config.set_group_id("throwaway");
  CHECK(config.settings().bootstrap_servers == "127.0.0.1:1234");
  CHECK_FALSE(config.settings().embedded);
  CHECK(config.consumer_properties()[0].value == "127.0.0.1:1234");
  CHECK(config.source_of(env_var::KAFKA_CONSUMER_GROUP) == "code");
  settings.acks = Acks::none;
  CHECK_THROWS_WITH_AS(Config::from_settings(settings), doctest::Contains("KAFKA_PRODUCER_REQUIRE_ACKS=\"0\""),
                       ConfigError);
}

TEST_CASE("config: the registry drives the machine-readable description") {
  const auto& registry = config_registry();
  CHECK(registry.size() >= 40);
  const auto json = config_registry_json();
  for (const auto& spec : registry) {
    CHECK(json.find("\"" + spec.name + "\"") != std::string::npos);
    CHECK(spec.description.find('\n') == std::string::npos);
    CHECK_FALSE(spec.description.empty());
  }
  const auto secret =
      std::count_if(registry.begin(), registry.end(), [](const VariableSpec& spec) { return spec.secret; });
  CHECK(secret == 5);  // the client key and its password, SASL, admin token, schema registry
}

}  // namespace config_load_test
