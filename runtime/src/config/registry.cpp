// The registry: every variable the runtime reads, declared once. Parsing, validation,
// --print-config, config_registry_json() and the generated .env.template all come from here.
#include <nlohmann/json.hpp>

#include "config/config_detail.hpp"

namespace kernel {

namespace {

std::vector<VariableSpec> make_registry() {
  // name, aliases, type, default, secret, description, accepted
  return {
      {"KAFKA_BOOTSTRAP_SERVERS", {"KAFKA_BROKERS"}, "list", "", false,
       "Comma-separated brokers (host:port), or embedded for the in-process development broker; "
       "required unless running with --dev or --samples",
       {}},
      {"KAFKA_TOPIC", {}, "list", "", false,
       "Comma-separated input topics; defaults to the kernel's compiled-in inputs", {}},
      {"KAFKA_OUTPUT_TOPIC", {}, "string", "", false,
       "Default topic for produce() without a topic; defaults to the kernel's compiled-in output",
       {}},
      {"KAFKA_DLQ_TOPIC", {"KAFKA_CONSUMER_DLQ_TOPIC", "KAFKA_PRODUCER_DLQ_TOPIC"}, "string", "",
       false, "Dead-letter topic; defaults to <kernel-name>.dlq", {}},
      {"KAFKA_CONSUMER_GROUP", {}, "string", "", false,
       "Consumer group id; defaults to the kernel name", {}},
      {"KAFKA_CLIENT_ID", {}, "string", "", false, "Client id; defaults to the kernel name", {}},
      {"KAFKA_TOPIC_PREFIX", {}, "string", "", false,
       "Prepended once to every topic name the kernel uses: inputs, output, dead-letter and "
       "topics named in produce()",
       {}},
      {"KAFKA_CA_CERT", {}, "pem", "", false,
       "CA certificate(s) to verify the brokers, as PEM or base64 of PEM; makes the protocol SSL",
       {}},
      {"KAFKA_CLIENT_CERT", {}, "pem", "", false,
       "Client certificate and its intermediates, as PEM or base64 of PEM; makes the protocol SSL",
       {}},
      {"KAFKA_CLIENT_KEY", {}, "pem", "", true,
       "Client private key, as PEM or base64 of PEM; held in memory only", {}},
      {"KAFKA_CLIENT_KEY_PASSWORD", {}, "string", "", true,
       "Password of an encrypted KAFKA_CLIENT_KEY (ssl.key.password)", {}},
      {"KAFKA_SASL_MECHANISM", {}, "enum", "", false,
       "SASL mechanism; setting one makes the protocol SASL_SSL",
       {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}},
      {"KAFKA_SASL_USERNAME", {}, "string", "", false, "SASL username", {}},
      {"KAFKA_SASL_PASSWORD", {}, "string", "", true, "SASL password", {}},
      {"KAFKA_SECURITY_PROTOCOL", {}, "enum", "", false,
       "Overrides the derived protocol; only an explicit SASL_PLAINTEXT sends a password "
       "unencrypted",
       {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}},
      {"KAFKA_PRODUCER_IDEMPOTENCE", {}, "bool", "true", false,
       "Idempotent producer; turn off only for brokers that cannot do it", {}},
      {"KAFKA_PRODUCER_REQUIRE_ACKS", {}, "enum", "all", false,
       "Acknowledgements per write: all (or -1), or 1 with idempotence off; 0 is refused",
       {"all", "-1", "1"}},
      {"KAFKA_PRODUCER_MAX_ATTEMPTS", {}, "int", "3", false,
       "Delivery attempts per output before it counts as failed (at least 2 with idempotence)",
       {}},
      {"KAFKA_PRODUCER_BATCH_TIMEOUT", {}, "duration", "10ms", false,
       "How long the producer waits to fill a batch (linger.ms)", {}},
      {"KAFKA_PRODUCER_COMPRESSION", {}, "enum", "snappy", false, "Compression of produced batches",
       {"none", "gzip", "snappy", "lz4", "zstd"}},
      {"KAFKA_PRODUCER_ASYNC", {}, "bool", "true", false,
       "Accepted for compatibility: outputs are always asynchronous and an input is committed "
       "only after its outputs are acknowledged",
       {}},
      {"KAFKA_CONSUMER_START_OFFSET", {}, "enum", "earliest", false,
       "Where a group with no committed offset starts: earliest (-2) or latest (-1)",
       {"earliest", "latest", "-2", "-1"}},
      {"KAFKA_CONSUMER_MIN_BYTES", {}, "size", "1", false,
       "Least data a fetch waits for (fetch.min.bytes)", {}},
      {"KAFKA_CONSUMER_MAX_BYTES", {}, "size", "10MB", false,
       "Most data one fetch returns (fetch.max.bytes)", {}},
      {"KAFKA_CONSUMER_MAX_WAIT", {}, "duration", "500ms", false,
       "Longest a fetch waits for KAFKA_CONSUMER_MIN_BYTES (fetch.wait.max.ms)", {}},
      {"KAFKA_CONSUMER_COMMIT_INTERVAL", {}, "duration", "1s", false,
       "How often completed offsets are committed", {}},
      {"KAFKA_CONSUMER_HEARTBEAT_INTERVAL", {}, "duration", "3s", false,
       "Group heartbeat interval (heartbeat.interval.ms); below the session timeout", {}},
      {"KAFKA_CONSUMER_SESSION_TIMEOUT", {}, "duration", "10s", false,
       "A member silent this long leaves the group (session.timeout.ms)", {}},
      {"KAFKA_CONSUMER_REBALANCE_TIMEOUT", {}, "duration", "60s", false,
       "Rebalance timeout sent when joining (max.poll.interval.ms); at least the session timeout",
       {}},
      {"KAFKA_CONSUMER_MAX_RETRIES", {}, "int", "3", false,
       "Retries after the first attempt before a message is dead-lettered", {}},
      {"KAFKA_CONSUMER_INSTANCE_ID", {}, "string", "", false,
       "Static group membership id (group.instance.id); a stopped member keeps its partitions "
       "until its session times out",
       {}},
      {"KAFKA_MAX_POLL_RECORDS", {}, "int", "500", false,
       "Most messages in flight (received, not yet committable) per partition", {}},
      {"KERNEL_ALLOW_OUTPUT_TO_INPUT", {}, "bool", "false", false,
       "Allow the output topic to be one of the input topics (the kernel then consumes its own "
       "outputs: the handler must end that loop); refused at start otherwise",
       {}},
      {"KERNEL_LOG_LEVEL", {}, "enum", "info", false, "Least severe log level written",
       {"trace", "debug", "info", "warn", "error"}},
      {"KERNEL_LOG_FORMAT", {}, "enum", "text", false,
       "Log format: text, or json with one object per line", {"text", "json"}},
      {"KERNEL_SHUTDOWN_TIMEOUT", {}, "duration", "25s", false,
       "Time to finish in-flight work, flush and commit after SIGTERM before exiting 1", {}},
      {"KERNEL_STARTUP_TIMEOUT", {}, "duration", "30s", false,
       "Time for the brokers to answer and the topics to exist at start before exiting 69", {}},
      {"KERNEL_RETRY_BACKOFF", {}, "duration", "200ms", false,
       "First delay of an in-place retry", {}},
      {"KERNEL_RETRY_BACKOFF_MAX", {}, "duration", "30s", false,
       "Longest delay between in-place retries", {}},
      {"KERNEL_RETRY_MULTIPLIER", {}, "float", "2.0", false,
       "Growth of the retry delay per attempt (at least 1)", {}},
      {"KERNEL_RETRY_JITTER", {}, "float", "0.2", false,
       "Random fraction (0 to 1) added to or taken from each retry delay", {}},
      {"KERNEL_HTTP_PORT", {}, "port", "8080", false,
       "Port of the health, metrics and admin endpoints; 0 picks a free port, off disables", {}},
      {"KERNEL_HTTP_ADDRESS", {}, "string", "0.0.0.0", false,
       "Address the health, metrics and admin endpoints listen on: 0.0.0.0 all interfaces, "
       "127.0.0.1 this host only, :: all interfaces with IPv6", {}},
      {"KERNEL_ADMIN_TOKEN", {}, "string", "", true,
       "Bearer token for the admin endpoints; unset turns them off", {}},
  };
}

}  // namespace

const std::vector<VariableSpec>& config_registry() {
  static const std::vector<VariableSpec> registry = make_registry();
  return registry;
}

std::string config_registry_json() {
  auto rows = nlohmann::ordered_json::array();
  for (const auto& spec : config_registry()) {
    rows.push_back({{"name", spec.name},
                    {"aliases", spec.aliases},
                    {"type", spec.type},
                    {"default_value", spec.default_value},
                    {"secret", spec.secret},
                    {"description", spec.description},
                    {"accepted", spec.accepted}});
  }
  return rows.dump(2);
}

namespace config_detail {

const VariableSpec* find_variable(std::string_view name) {
  for (const auto& spec : config_registry()) {
    if (spec.name == name) return &spec;
    for (const auto& alias : spec.aliases) {
      if (alias == name) return &spec;
    }
  }
  return nullptr;
}

bool is_secret_variable(std::string_view name) {
  const auto* spec = find_variable(name);
  return spec != nullptr && spec->secret;
}

std::vector<std::string> known_variable_names() {
  std::vector<std::string> names;
  for (const auto& spec : config_registry()) {
    names.push_back(spec.name);
    names.insert(names.end(), spec.aliases.begin(), spec.aliases.end());
  }
  return names;
}

}  // namespace config_detail
}  // namespace kernel
