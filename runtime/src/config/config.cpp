// Interim configuration: enough to run; the full registry-driven implementation replaces it.
#include "kernel/config.hpp"

#include <unistd.h>

extern char** environ;

namespace kernel {

namespace {
std::string join_problems(const std::vector<std::string>& problems) {
  std::string text;
  for (const auto& p : problems) text += (text.empty() ? "" : "\n") + p;
  return text;
}
}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(join_problems(problems)), problems_(std::move(problems)) {}

Environment process_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

const std::vector<VariableSpec>& config_registry() {
  static const std::vector<VariableSpec> registry;
  return registry;
}

std::string config_registry_json() { return "[]"; }

Config Config::load(const KernelDefaults& defaults, const Environment& environment, RunMode mode,
                    const std::filesystem::path&) {
  Settings s;
  s.kernel_name = defaults.name;
  auto get = [&](const char* name) -> std::string {
    auto it = environment.find(name);
    return it == environment.end() ? "" : it->second;
  };
  s.bootstrap_servers = get("KAFKA_BOOTSTRAP_SERVERS");
  if (s.bootstrap_servers.empty() && mode != RunMode::production) s.bootstrap_servers = "embedded";
  if (s.bootstrap_servers.empty()) {
    throw ConfigError({"config error: KAFKA_BOOTSTRAP_SERVERS: required; set it to your brokers, "
                       "or to embedded (or run with --dev) for the development broker"});
  }
  s.embedded = s.bootstrap_servers == "embedded";
  s.input_topics = defaults.input_topics;
  s.output_topic = defaults.output_topic;
  if (auto out = get("KAFKA_OUTPUT_TOPIC"); !out.empty()) s.output_topic = out;
  s.dlq_topic = get("KAFKA_DLQ_TOPIC").empty() ? defaults.name + ".dlq" : get("KAFKA_DLQ_TOPIC");
  s.group_id = get("KAFKA_CONSUMER_GROUP").empty() ? defaults.name : get("KAFKA_CONSUMER_GROUP");
  s.client_id = defaults.name;
  if (auto v = get("KAFKA_CONSUMER_SESSION_TIMEOUT"); !v.empty() && v.ends_with("s")) {
    s.session_timeout = std::chrono::seconds(std::stoi(v));
    s.heartbeat_interval = s.session_timeout / 4;
  }
  if (auto v = get("KERNEL_LOG_LEVEL"); !v.empty()) s.log_level = v;
  if (auto v = get("KERNEL_LOG_FORMAT"); !v.empty()) s.log_format = v;
  return from_settings(std::move(s));
}

Config Config::from_settings(Settings settings) {
  Config config;
  config.settings_ = std::move(settings);
  return config;
}

void Config::use_bootstrap_servers(std::string servers) {
  settings_.bootstrap_servers = std::move(servers);
}

void Config::set_group_id(std::string group) { settings_.group_id = std::move(group); }

namespace {
std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()); }
}  // namespace

std::vector<Property> Config::consumer_properties() const {
  const auto& s = settings_;
  return {
      {"bootstrap.servers", s.bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS"},
      {"group.id", s.group_id, "KAFKA_CONSUMER_GROUP"},
      {"client.id", s.client_id, "KAFKA_CLIENT_ID"},
      {"enable.auto.commit", "false", ""},
      {"enable.auto.offset.store", "false", ""},
      {"auto.offset.reset", s.start_offset, "KAFKA_CONSUMER_START_OFFSET"},
      {"partition.assignment.strategy", "cooperative-sticky", ""},
      {"session.timeout.ms", ms(s.session_timeout), "KAFKA_CONSUMER_SESSION_TIMEOUT"},
      {"heartbeat.interval.ms", ms(s.heartbeat_interval), "KAFKA_CONSUMER_HEARTBEAT_INTERVAL"},
      {"max.poll.interval.ms", ms(s.rebalance_timeout), "KAFKA_CONSUMER_REBALANCE_TIMEOUT"},
      {"fetch.wait.max.ms", ms(s.fetch_max_wait), "KAFKA_CONSUMER_MAX_WAIT"},
  };
}

std::vector<Property> Config::producer_properties() const {
  const auto& s = settings_;
  return {
      {"bootstrap.servers", s.bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS"},
      {"client.id", s.client_id, "KAFKA_CLIENT_ID"},
      {"enable.idempotence", s.idempotence ? "true" : "false", "KAFKA_PRODUCER_IDEMPOTENCE"},
      {"acks", s.acks, "KAFKA_PRODUCER_REQUIRE_ACKS"},
      {"linger.ms", ms(s.linger), "KAFKA_PRODUCER_BATCH_TIMEOUT"},
      {"compression.type", s.compression, "KAFKA_PRODUCER_COMPRESSION"},
  };
}

std::string Config::describe() const { return "bootstrap.servers=" + settings_.bootstrap_servers + "\n"; }

std::string mask_secrets(std::string_view text) { return std::string(text); }

}  // namespace kernel
