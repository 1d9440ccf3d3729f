// The registry: every variable the runtime reads, declared once with its names, its type
// (how its text is parsed, written back and checked), its default, where it lands in
// Settings and its documentation. Loading, validation, --print-config, docs/configuration.md
// and the generator's .env.template are loops over this table. Part of kernel_config.
#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/config_detail.hpp"

namespace kernel {

using namespace config_detail;
using namespace config_detail::codec;

namespace {

std::string brokers_problem(const std::string& servers, std::string_view) {
  if (servers.empty()) return "required: expected brokers (host:port,...) or embedded";
  if (servers == "embedded") return {};
  for (const auto& broker : split_list(servers)) {
    if (auto why = broker_problem(broker); !why.empty()) return why;
  }
  return {};
}

/// Written once: the row's default, and the part a value giving only the count or the age keeps.
constexpr std::string_view dedup_window_default = "10000,10m";

// ---- librdkafka values ------------------------------------------------------------------

using PropertyValue = std::function<std::optional<std::string>(const Settings&)>;

PropertyValue text_of(std::string Settings::*field) {
  return [field](const Settings& s) { return std::optional(s.*field); };
}

/// An enum as librdkafka reads it (to_string).
template <typename E>
requires std::is_enum_v<E> PropertyValue text_of(E Settings::*field) {
  return [field](const Settings& s) { return std::optional(std::string(to_string(s.*field))); };
}

/// Left to librdkafka when empty (no certificate, no instance id).
PropertyValue unless_empty(std::string Settings::*field) {
  return [field](const Settings& s) { return (s.*field).empty() ? std::nullopt : std::optional(s.*field); };
}

template <typename N>
PropertyValue number_of(N Settings::*field) {
  return [field](const Settings& s) { return std::optional(std::to_string(s.*field)); };
}

PropertyValue millis(std::chrono::milliseconds Settings::*field) {
  return [field](const Settings& s) { return std::optional(std::to_string((s.*field).count())); };
}

/// SASL credentials go to librdkafka only with a SASL protocol.
PropertyValue with_sasl(PropertyValue value) {
  return [value = std::move(value)](const Settings& s) -> std::optional<std::string> {
    if (s.security_protocol != SecurityProtocol::sasl_plaintext && s.security_protocol != SecurityProtocol::sasl_ssl) {
      return std::nullopt;
    }
    return value(s);
  };
}

std::optional<std::string> sasl_mechanism_name(const Settings& s) {
  if (!s.sasl_mechanism) return std::nullopt;
  return std::string(to_string(*s.sasl_mechanism));
}

std::optional<std::string> idempotence_flag(const Settings& s) { return s.idempotence ? "true" : "false"; }

// Attempts count the first send; librdkafka's retries do not.
std::optional<std::string> retries_after_first(const Settings& s) {
  return std::to_string(std::max(0, s.max_attempts - 1));
}

// An input partition has at most KAFKA_MAX_POLL_RECORDS messages in flight (handled, outputs
// not yet acknowledged), so when its outputs fill one output partition's batch, waiting
// linger.ms for more would stall it until the timer fires. Sending a batch once it holds half
// that bound keeps the other half being handled while the first is on its way. The cost:
// smaller requests where many inputs feed one output partition at a high rate (set
// KAFKA_PROPERTY_BATCH_NUM_MESSAGES for brokers far away).
std::optional<std::string> half_in_flight(const Settings& s) {
  return std::to_string(std::clamp(s.max_poll_records / 2, 1, 10000));
}

// Outputs of aborted transactions (a crashed or fenced instance's) are never read.
std::optional<std::string> read_committed_if_exactly_once(const Settings& s) {
  if (s.delivery != DeliveryGuarantee::exactly_once) return std::nullopt;
  return "read_committed";
}

// Empty when unset: the runtime derives the id (transactional_id.cpp), which needs SHA-256,
// and kernel::config links no crypto library.
std::optional<std::string> transactional_id_if_exactly_once(const Settings& s) {
  if (s.delivery != DeliveryGuarantee::exactly_once) return std::nullopt;
  return s.transactional_id;
}

// ---- Rows ---------------------------------------------------------------------------------

/// What the table writes for each variable besides its type and its place in Settings.
struct Row {
  std::string name;
  std::vector<std::string> aliases = {};
  std::string default_value = {};
  bool secret = false;
  FromKernel from_kernel = FromKernel::nothing;
  std::string description;
  std::vector<RdkafkaProperty> rdkafka = {};
};

VariableSpec spec_of(const Row& row, std::string type, std::vector<std::string> accepted) {
  return {row.name,
          row.aliases,
          std::move(type),
          row.default_value,
          row.secret,
          row.description,
          std::move(accepted),
          row.from_kernel,
          {},
          {},
          {},
          false,
          false,
          row.rdkafka};
}

/// A variable whose value lands in `field`.
template <typename T>
VariableSpec stored_in(T Settings::*field, Codec<T> codec, Row row) {
  auto spec = spec_of(row, codec.type, codec.accepted);
  spec.read = [field, parse = codec.parse](std::string_view text, Settings& settings) {
    auto value = parse(text);
    if (!value) return std::move(value).error();
    settings.*field = std::move(*value);
    return std::string();
  };
  spec.show = [field, format = codec.format](const Settings& settings) { return format(settings.*field); };
  spec.check = [field, check = codec.check, example = row.default_value](const Settings& settings) {
    return check ? check(settings.*field, example) : std::string();
  };
  return spec;
}

/// A variable read and checked for compatibility, whose value the runtime does not use.
template <typename T>
VariableSpec accepted_only(Codec<T> codec, Row row) {
  auto spec = spec_of(row, codec.type, codec.accepted);
  spec.read = [parse = codec.parse](std::string_view text, Settings&) {
    auto value = parse(text);
    return value ? std::string() : std::move(value).error();
  };
  spec.show = [shown = row.default_value](const Settings&) { return shown; };
  spec.check = [](const Settings&) { return std::string(); };
  return spec;
}

std::vector<VariableSpec> make_registry() {
  using S = Settings;
  return {
      stored_in(&S::bootstrap_servers, checked(text("list"), brokers_problem),
                {.name = env_var::KAFKA_BOOTSTRAP_SERVERS,
                 .aliases = {"KAFKA_BROKERS"},
                 .description = "Comma-separated brokers (host:port), or embedded for the in-process development "
                                "broker; required unless running with --dev or --samples",
                 .rdkafka = {{.name = "bootstrap.servers",
                              .clients = RdkafkaClients::both,
                              .aliases = {"metadata.broker.list"},
                              .value = text_of(&S::bootstrap_servers)}}}),
      stored_in(&S::input_topics, topic_list(),
                {.name = env_var::KAFKA_TOPIC,
                 .from_kernel = FromKernel::input_topics,
                 .description = "Comma-separated input topics; defaults to the kernel's compiled-in inputs"}),
      stored_in(&S::output_topic, optional_of(text()),
                {.name = env_var::KAFKA_OUTPUT_TOPIC,
                 .from_kernel = FromKernel::output_topic,
                 .description = "Default topic for produce() without a topic; defaults to the kernel's compiled-in "
                                "output"}),
      stored_in(&S::dlq_topic, text(),
                {.name = env_var::KAFKA_DLQ_TOPIC,
                 .aliases = {"KAFKA_CONSUMER_DLQ_TOPIC", "KAFKA_PRODUCER_DLQ_TOPIC"},
                 .from_kernel = FromKernel::dead_letter_topic,
                 .description = "Dead-letter topic; defaults to <kernel-name>.dlq"}),
      stored_in(&S::error_topic, optional_of(text()),
                {.name = env_var::KAFKA_ERROR_TOPIC,
                 .description = "Topic business errors are also published to; unset means none, except under "
                                "pipeline naming, where it is the step's error topic"}),
      stored_in(
          &S::group_id,
          checked(text(),
                  [](const std::string& value, std::string_view) {
                    return value.empty() ? std::string("expected a group id") : std::string();
                  }),
          {.name = env_var::KAFKA_CONSUMER_GROUP,
           .from_kernel = FromKernel::consumer_group,
           .description = "Consumer group id; defaults to the kernel name",
           .rdkafka = {{.name = "group.id", .clients = RdkafkaClients::consumer, .value = text_of(&S::group_id)}}}),
      stored_in(&S::client_id,
                checked(text(),
                        [](const std::string& value, std::string_view) {
                          return value.empty() ? std::string("expected a client id") : std::string();
                        }),
                {.name = env_var::KAFKA_CLIENT_ID,
                 .from_kernel = FromKernel::client_id,
                 .description = "Client id; defaults to the kernel name",
                 .rdkafka = {{.name = "client.id", .clients = RdkafkaClients::both, .value = text_of(&S::client_id)}}}),
      stored_in(&S::topic_prefix, text(),
                {.name = env_var::KAFKA_TOPIC_PREFIX,
                 .description = "Prepended once to every topic name the kernel uses: inputs, output, dead-letter "
                                "and topics named in produce()"}),
      stored_in(&S::ca_cert_pem, pem("certificate"),
                {.name = env_var::KAFKA_CA_CERT,
                 .description = "CA certificate(s) to verify the brokers, as PEM or base64 of PEM; makes the "
                                "protocol SSL",
                 .rdkafka = {{.name = "ssl.ca.pem",
                              .clients = RdkafkaClients::both,
                              .value = unless_empty(&S::ca_cert_pem)}}}),
      stored_in(&S::client_cert_pem, pem("certificate"),
                {.name = env_var::KAFKA_CLIENT_CERT,
                 .description = "Client certificate and its intermediates, as PEM or base64 of PEM; makes the "
                                "protocol SSL",
                 .rdkafka = {{.name = "ssl.certificate.pem",
                              .clients = RdkafkaClients::both,
                              .value = unless_empty(&S::client_cert_pem)}}}),
      stored_in(&S::client_key_pem, pem("private key"),
                {.name = env_var::KAFKA_CLIENT_KEY,
                 .secret = true,
                 .description = "Client private key, as PEM or base64 of PEM; held in memory only",
                 .rdkafka = {{.name = "ssl.key.pem",
                              .clients = RdkafkaClients::both,
                              .value = unless_empty(&S::client_key_pem)}}}),
      stored_in(&S::client_key_password, verbatim(),
                {.name = env_var::KAFKA_CLIENT_KEY_PASSWORD,
                 .secret = true,
                 .description = "Password of an encrypted KAFKA_CLIENT_KEY (ssl.key.password)",
                 .rdkafka = {{.name = "ssl.key.password",
                              .clients = RdkafkaClients::both,
                              .value = unless_empty(&S::client_key_password)}}}),
      stored_in(&S::sasl_mechanism, optional_of(choice<SaslMechanism>()),
                {.name = env_var::KAFKA_SASL_MECHANISM,
                 .description = "SASL mechanism; setting one makes the protocol SASL_SSL",
                 .rdkafka = {{.name = "sasl.mechanisms",
                              .clients = RdkafkaClients::both,
                              .aliases = {"sasl.mechanism"},
                              .value = with_sasl(sasl_mechanism_name)}}}),
      stored_in(&S::sasl_username, text(),
                {.name = env_var::KAFKA_SASL_USERNAME,
                 .description = "SASL username",
                 .rdkafka = {{.name = "sasl.username",
                              .clients = RdkafkaClients::both,
                              .value = with_sasl(unless_empty(&S::sasl_username))}}}),
      stored_in(&S::sasl_password, verbatim(),
                {.name = env_var::KAFKA_SASL_PASSWORD,
                 .secret = true,
                 .description = "SASL password",
                 .rdkafka = {{.name = "sasl.password",
                              .clients = RdkafkaClients::both,
                              .value = with_sasl(unless_empty(&S::sasl_password))}}}),
      stored_in(&S::security_protocol, choice<SecurityProtocol>(),
                {.name = env_var::KAFKA_SECURITY_PROTOCOL,
                 .description = "Overrides the derived protocol; only an explicit SASL_PLAINTEXT sends a password "
                                "unencrypted",
                 .rdkafka = {{.name = "security.protocol",
                              .clients = RdkafkaClients::both,
                              .value = text_of(&S::security_protocol)}}}),
      stored_in(&S::idempotence, boolean(),
                {.name = env_var::KAFKA_PRODUCER_IDEMPOTENCE,
                 .default_value = "true",
                 .description = "Idempotent producer; turn off only for brokers that cannot do it",
                 .rdkafka =
                     {{.name = "enable.idempotence", .clients = RdkafkaClients::producer, .value = idempotence_flag}}}),
      stored_in(&S::acks,
                checked(choice<Acks>(" (1 only with KAFKA_PRODUCER_IDEMPOTENCE=false)"),
                        [](const Acks& acks, std::string_view) {
                          return acks == Acks::none
                                     ? std::string(
                                           "0 is refused: at-least-once needs acknowledgements; expected "
                                           "all (or -1), or 1 with KAFKA_PRODUCER_IDEMPOTENCE=false")
                                     : std::string();
                        }),
                {.name = env_var::KAFKA_PRODUCER_REQUIRE_ACKS,
                 .default_value = "all",
                 .description = "Acknowledgements per write: all (or -1), or 1 with idempotence off; 0 is refused",
                 .rdkafka = {{.name = "acks",
                              .clients = RdkafkaClients::producer,
                              .aliases = {"request.required.acks"},
                              .value = text_of(&S::acks)}}}),
      stored_in(&S::max_attempts, whole_number(1, " (attempts per output)"),
                {.name = env_var::KAFKA_PRODUCER_MAX_ATTEMPTS,
                 .default_value = "3",
                 .description = "Delivery attempts per output before it counts as failed (at least 2 with "
                                "idempotence)",
                 .rdkafka = {{.name = "retries",
                              .clients = RdkafkaClients::producer,
                              .aliases = {"message.send.max.retries"},
                              .value = retries_after_first}}}),
      stored_in(&S::linger, duration(),
                {.name = env_var::KAFKA_PRODUCER_BATCH_TIMEOUT,
                 .default_value = "10ms",
                 .description = "How long the producer waits to fill a batch (linger.ms); 0 sends each batch as "
                                "soon as it can",
                 .rdkafka = {{.name = "linger.ms",
                              .clients = RdkafkaClients::producer,
                              .aliases = {"queue.buffering.max.ms"},
                              .owned = false,
                              .value = millis(&S::linger)}}}),
      stored_in(&S::compression, choice<Compression>(),
                {.name = env_var::KAFKA_PRODUCER_COMPRESSION,
                 .default_value = "snappy",
                 .description = "Compression of produced batches",
                 .rdkafka = {{.name = "compression.type",
                              .clients = RdkafkaClients::producer,
                              .aliases = {"compression.codec"},
                              .owned = false,
                              .value = text_of(&S::compression)}}}),
      accepted_only(boolean(),
                    {.name = env_var::KAFKA_PRODUCER_ASYNC,
                     .default_value = "true",
                     .description = "Accepted for compatibility: outputs are always asynchronous and an input is "
                                    "committed only after its outputs are acknowledged"}),
      stored_in(&S::start_offset, choice<StartOffset>(),
                {.name = env_var::KAFKA_CONSUMER_START_OFFSET,
                 .default_value = "earliest",
                 .description = "Where a group with no committed offset starts: earliest (-2) or latest (-1)",
                 .rdkafka = {{.name = "auto.offset.reset",
                              .clients = RdkafkaClients::consumer,
                              .value = text_of(&S::start_offset)}}}),
      stored_in(&S::fetch_min_bytes, size(Zero::refused),
                {.name = env_var::KAFKA_CONSUMER_MIN_BYTES,
                 .default_value = "1",
                 .description = "Least data a fetch waits for (fetch.min.bytes)",
                 .rdkafka = {{.name = "fetch.min.bytes",
                              .clients = RdkafkaClients::consumer,
                              .owned = false,
                              .value = number_of(&S::fetch_min_bytes)}}}),
      stored_in(&S::fetch_max_bytes, size(),
                {.name = env_var::KAFKA_CONSUMER_MAX_BYTES,
                 .default_value = "10MB",
                 .description = "Most data one fetch returns (fetch.max.bytes)",
                 .rdkafka = {{.name = "fetch.max.bytes",
                              .clients = RdkafkaClients::consumer,
                              .owned = false,
                              .value = number_of(&S::fetch_max_bytes)}}}),
      stored_in(&S::fetch_max_wait, duration(),
                {.name = env_var::KAFKA_CONSUMER_MAX_WAIT,
                 .default_value = "500ms",
                 .description = "Longest a fetch waits for KAFKA_CONSUMER_MIN_BYTES (fetch.wait.max.ms); 0 has the "
                                "broker answer each fetch at once, with data or without",
                 .rdkafka = {{.name = "fetch.wait.max.ms",
                              .clients = RdkafkaClients::consumer,
                              .owned = false,
                              .value = millis(&S::fetch_max_wait)}}}),
      stored_in(&S::commit_interval, duration(Zero::refused),
                {.name = env_var::KAFKA_CONSUMER_COMMIT_INTERVAL,
                 .default_value = "1s",
                 .description = "How often completed offsets are committed"}),
      stored_in(&S::heartbeat_interval, duration(Zero::refused),
                {.name = env_var::KAFKA_CONSUMER_HEARTBEAT_INTERVAL,
                 .default_value = "3s",
                 .description = "Group heartbeat interval (heartbeat.interval.ms); below the session timeout",
                 .rdkafka = {{.name = "heartbeat.interval.ms",
                              .clients = RdkafkaClients::consumer,
                              .owned = false,
                              .value = millis(&S::heartbeat_interval)}}}),
      stored_in(&S::session_timeout, duration(Zero::refused),
                {.name = env_var::KAFKA_CONSUMER_SESSION_TIMEOUT,
                 .default_value = "10s",
                 .description = "A member silent this long leaves the group (session.timeout.ms)",
                 .rdkafka = {{.name = "session.timeout.ms",
                              .clients = RdkafkaClients::consumer,
                              .owned = false,
                              .value = millis(&S::session_timeout)}}}),
      stored_in(&S::rebalance_timeout, duration(Zero::refused),
                {.name = env_var::KAFKA_CONSUMER_REBALANCE_TIMEOUT,
                 .default_value = "60s",
                 .description = "Rebalance timeout sent when joining (max.poll.interval.ms); at least the session "
                                "timeout",
                 .rdkafka = {{.name = "max.poll.interval.ms",
                              .clients = RdkafkaClients::consumer,
                              .owned = false,
                              .value = millis(&S::rebalance_timeout)}}}),
      stored_in(&S::max_retries, whole_number(0, " (retries before dead-lettering)"),
                {.name = env_var::KAFKA_CONSUMER_MAX_RETRIES,
                 .default_value = "3",
                 .description = "Retries after the first attempt before a message is dead-lettered"}),
      stored_in(&S::instance_id, text(),
                {.name = env_var::KAFKA_CONSUMER_INSTANCE_ID,
                 .description = "Static group membership id (group.instance.id); a stopped member keeps its "
                                "partitions until its session times out",
                 .rdkafka = {{.name = "group.instance.id",
                              .clients = RdkafkaClients::consumer,
                              .value = unless_empty(&S::instance_id)}}}),
      stored_in(&S::max_poll_records, whole_number(1, " (messages per partition)"),
                {.name = env_var::KAFKA_MAX_POLL_RECORDS,
                 .default_value = "500",
                 .description = "Most messages in flight (received, not yet committable) per partition; the "
                                "producer sends a batch once it holds half of this (batch.num.messages)",
                 .rdkafka = {{.name = "batch.num.messages",
                              .clients = RdkafkaClients::producer,
                              .owned = false,
                              .derived = true,
                              .value = half_in_flight}}}),
      stored_in(&S::delivery, choice<DeliveryGuarantee>(),
                {.name = env_var::KERNEL_DELIVERY,
                 .default_value = "at_least_once",
                 .description = "at_least_once, or exactly_once: outputs, dead letters and retry records written in "
                                "a Kafka transaction that also commits the inputs' offsets, read_committed "
                                "consumer; needs KAFKA_PRODUCER_IDEMPOTENCE (docs/exactly-once.md)",
                 .rdkafka = {{.name = "isolation.level",
                              .clients = RdkafkaClients::consumer,
                              .owned = false,
                              .value = read_committed_if_exactly_once}}}),
      stored_in(&S::kernel_instance_id, text(),
                {.name = env_var::KERNEL_INSTANCE_ID,
                 .description = "Stable id of this instance, part of the derived transactional.id; unset: the host "
                                "name (a pod name in a StatefulSet keeps it across restarts)"}),
      stored_in(&S::transactional_id, text(),
                {.name = env_var::KERNEL_TRANSACTIONAL_ID,
                 .description = "transactional.id under exactly_once; unset: <group>.<inputs>.<instance id>, "
                                "<inputs> the sorted input topics joined by + (the first 16 hex digits of their "
                                "SHA-256 beyond 100 characters). A second instance with the same id fences the "
                                "first",
                 .rdkafka = {{.name = "transactional.id",
                              .clients = RdkafkaClients::transactional_producer,
                              .value = transactional_id_if_exactly_once}}}),
      stored_in(&S::allow_output_to_input, boolean(),
                {.name = env_var::KERNEL_ALLOW_OUTPUT_TO_INPUT,
                 .default_value = "false",
                 .description = "Allow the output topic to be one of the input topics (the kernel then consumes its "
                                "own outputs: the handler must end that loop); refused at start otherwise"}),
      stored_in(&S::pipeline, text(),
                {.name = env_var::KERNEL_PIPELINE,
                 .description = "Pipeline this kernel is a step of; with KERNEL_STEP, names its topics and group by "
                                "KERNEL_TOPIC_PATTERN and turns the produce guard on (docs/pipelines.md)"}),
      stored_in(&S::step, text(),
                {.name = env_var::KERNEL_STEP, .description = "Name of this kernel's step in KERNEL_PIPELINE"}),
      stored_in(&S::cluster, text(),
                {.name = env_var::KERNEL_CLUSTER, .description = "Cluster name, the ${clusterName} of topic patterns"}),
      stored_in(&S::topic_pattern, text(),
                {.name = env_var::KERNEL_TOPIC_PATTERN,
                 .default_value = "pipeline.${pipelineName}.step.${stepName}.${kind}",
                 .description = "Topic names under pipeline naming; ${kind} is input, output, dead-letter, error or "
                                "retry.<n>; ${clusterName}, ${pipelineName} and ${stepName} may also be used in "
                                "any topic setting"}),
      stored_in(&S::allowed_topics, topic_list(),
                {.name = env_var::KERNEL_ALLOWED_TOPICS,
                 .description = "Produce guard whitelist: topics (or prefix.* for every topic starting prefix.) a "
                                "handler may write besides its own; written as the brokers know them "
                                "(KAFKA_TOPIC_PREFIX is not added); setting it turns the guard on"}),
      stored_in(&S::create_topics, boolean(),
                {.name = env_var::KERNEL_CREATE_TOPICS,
                 .default_value = "false",
                 .description = "Create the topics the kernel uses that are missing at start, instead of exiting "
                                "69"}),
      stored_in(&S::topic_partitions, optional_of(whole_number(1, " (partitions)")),
                {.name = env_var::KERNEL_TOPIC_PARTITIONS,
                 .description = "Partitions of the topics the kernel creates; defaults to the first input topic's"}),
      stored_in(&S::topic_replication, whole_number(1, " (replicas)"),
                {.name = env_var::KERNEL_TOPIC_REPLICATION,
                 .default_value = "3",
                 .description = "Replication factor of the topics the kernel creates, capped at the brokers "
                                "available"}),
      stored_in(&S::error_topic_retention, duration(Zero::refused),
                {.name = env_var::KERNEL_ERROR_TOPIC_RETENTION,
                 .default_value = "7d",
                 .description = "Retention (retention.ms) of the error and dead-letter topics the kernel creates"}),
      stored_in(&S::log_level, choice<LogLevel>(),
                {.name = env_var::KERNEL_LOG_LEVEL,
                 .default_value = "info",
                 .description = "Least severe log level written"}),
      stored_in(&S::log_format, choice<LogFormat>(),
                {.name = env_var::KERNEL_LOG_FORMAT,
                 .default_value = "text",
                 .description = "Log format: text, or json with one object per line"}),
      stored_in(&S::shutdown_timeout, duration(Zero::refused),
                {.name = env_var::KERNEL_SHUTDOWN_TIMEOUT,
                 .default_value = "25s",
                 .description = "Time to finish in-flight work, flush and commit after SIGTERM before exiting 1"}),
      stored_in(&S::startup_timeout, duration(Zero::refused),
                {.name = env_var::KERNEL_STARTUP_TIMEOUT,
                 .default_value = "30s",
                 .description = "Time for the brokers to answer and the topics to exist at start before exiting 69"}),
      stored_in(&S::retry_backoff, duration(Zero::refused),
                {.name = env_var::KERNEL_RETRY_BACKOFF,
                 .default_value = "200ms",
                 .description = "First delay of an in-place retry"}),
      stored_in(&S::retry_backoff_max, duration(Zero::refused),
                {.name = env_var::KERNEL_RETRY_BACKOFF_MAX,
                 .default_value = "30s",
                 .description = "Longest delay between in-place retries"}),
      stored_in(&S::retry_multiplier, number([](double value, std::string_view) {
        return value < 1.0 ? std::string("expected 1.0 or more") : std::string();
      }),
                {.name = env_var::KERNEL_RETRY_MULTIPLIER,
                 .default_value = "2.0",
                 .description = "Growth of the retry delay per attempt (at least 1)"}),
      stored_in(&S::retry_jitter, number([](double value, std::string_view example) {
        return value < 0.0 || value > 1.0 ? "expected a fraction from 0 to 1, e.g. " + std::string(example)
                                          : std::string();
      }),
                {.name = env_var::KERNEL_RETRY_JITTER,
                 .default_value = "0.2",
                 .description = "Random fraction (0 to 1) added to or taken from each retry delay"}),
      stored_in(
          &S::retry_topics, rising_durations(),
          {.name = env_var::KERNEL_RETRY_TOPICS,
           .description = "Comma-separated delays (1s,10s,1m) of non-blocking retry topics: a transient failure "
                          "moves to <kernel>.retry.1, .retry.2, ... (the prefix applies), then to the dead-letter "
                          "topic; KAFKA_CONSUMER_MAX_RETRIES is then ignored. Unset: retries in place"}),
      stored_in(&S::breaker_threshold, whole_number(0, " (consecutive transient failures; 0 turns the breaker off)"),
                {.name = env_var::KERNEL_BREAKER_THRESHOLD,
                 .default_value = "5",
                 .description = "Consecutive transient failures across the kernel that open the circuit breaker "
                                "(every partition paused); 0 turns the breaker off"}),
      stored_in(&S::breaker_cooldown, duration(Zero::refused),
                {.name = env_var::KERNEL_BREAKER_COOLDOWN,
                 .default_value = "10s",
                 .description = "How long the circuit stays open before one message goes through as a probe"}),
      stored_in(&S::breaker_cooldown_max, duration(Zero::refused),
                {.name = env_var::KERNEL_BREAKER_COOLDOWN_MAX,
                 .default_value = "5m",
                 .description = "Longest open period: each failed probe doubles the last one up to this"}),
      stored_in(&S::handler_timeout, optional_of(duration(Zero::refused)),
                {.name = env_var::KERNEL_HANDLER_TIMEOUT,
                 .description = "Handler deadline (context.deadline()); a call returning past it is a transient "
                                "failure (timeout); one still running at 3x it (at most the rebalance timeout) fails "
                                "/healthz; unset: no deadline"}),
      stored_in(&S::batch_size, whole_number(1, " (messages per batch)"),
                {.name = env_var::KERNEL_BATCH_SIZE,
                 .default_value = "500",
                 .description = "Most messages of one partition per batch_handler call (1 to "
                                "KAFKA_MAX_POLL_RECORDS); unused by a single-message handler"}),
      stored_in(&S::batch_timeout, duration(Zero::refused),
                {.name = env_var::KERNEL_BATCH_TIMEOUT,
                 .default_value = "100ms",
                 .description = "A partition's batch is handed to batch_handler when full or this long after its "
                                "first message arrived"}),
      stored_in(&S::concurrency,
                checked(whole_number(1, " and at most 1024 (worker threads)"),
                        [](int value, std::string_view) {
                          return value > 1024 ? std::string("expected at most 1024 (worker threads)") : std::string();
                        }),
                {.name = env_var::KERNEL_CONCURRENCY,
                 .default_value = "1",
                 .description = "Handler calls run on this many worker threads (1-1024); the poll loop stays on one "
                                "thread. Above 1 the handler must be thread-safe; each call gets its own Context "
                                "(docs/concurrency.md)"}),
      stored_in(&S::ordering, choice<Ordering>(),
                {.name = env_var::KERNEL_ORDERING,
                 .default_value = "key",
                 .description = "key: messages with the same key (null key: same partition) never run at the same "
                                "time and keep their order; partition: one at a time per partition; none: any order"}),
      stored_in(&S::dedup_window, dedup_window(dedup_window_default),
                {.name = env_var::KERNEL_DEDUP_WINDOW,
                 .default_value = std::string(dedup_window_default),
                 .description = "What kernel::middleware::deduplicate() remembers: this many completed event ids, "
                                "each for at most this long (COUNT,AGE; either alone sets that part). Used only by "
                                "kernels that add deduplicate() (docs/duplicates-and-formats.md)"}),
      stored_in(&S::http_port, port(),
                {.name = env_var::KERNEL_HTTP_PORT,
                 .default_value = "8080",
                 .description = "Port of the health, metrics and admin endpoints; 0 picks a free port, off disables"}),
      stored_in(&S::http_address, ip_address(),
                {.name = env_var::KERNEL_HTTP_ADDRESS,
                 .default_value = "0.0.0.0",
                 .description = "Address the health, metrics and admin endpoints listen on: 0.0.0.0 all interfaces, "
                                "127.0.0.1 this host only, :: all interfaces with IPv6"}),
      stored_in(&S::admin_token, verbatim(),
                {.name = env_var::KERNEL_ADMIN_TOKEN,
                 .secret = true,
                 .description = "Bearer token for the admin endpoints; unset turns them off"}),
  };
}

}  // namespace

const std::vector<VariableSpec>& config_registry() {
  static const std::vector<VariableSpec> registry = make_registry();
  return registry;
}

Settings::Settings() {
  for (const auto& spec : config_registry()) {
    if (!spec.default_value.empty()) spec.read(spec.default_value, *this);
  }
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

std::string config_registry_markdown() {
  std::ostringstream out;
  out << "# Configuration reference\n\n"
         "Every variable a kernel reads, generated from the runtime's registry (do not edit by hand: run\n"
         "`scripts/update-config-docs.sh`). Values come from the environment; a `.env` file in the working\n"
         "directory fills only what the environment leaves unset, and an empty value counts as unset.\n"
         "Durations need a unit (`250ms`, `10s`, `1m`); sizes are bytes or `KB`/`MB` (10^3, 10^6) and\n"
         "`KiB`/`MiB`; booleans are `true/false/1/0/yes/no`. Any other librdkafka property can be set as\n"
         "`KAFKA_PROPERTY_<NAME>` (`_` becomes `.`, `__` becomes `_`). A number beyond the range of the\n"
         "librdkafka property it sets is refused with that range (librdkafka itself would keep only 32 bits\n"
         "of it), and each broker needs a port from 1 to 65535. Problems are reported all at once, one line\n"
         "each, and the kernel exits with 78. Secret values are never printed or logged.\n\n"
         "A kernel adds its own settings (`<KERNEL_NAME>_<SETTING>`) and named outputs\n"
         "(`KAFKA_OUTPUT_TOPIC_<NAME>`), read by the same rules: see kernel-settings.md. A kernel binary\n"
         "prints every variable it reads, its own included, with `--print-config --format env|markdown|json`.\n\n"
         "| variable | type | default | description |\n"
         "| --- | --- | --- | --- |\n";
  for (const auto& spec : config_registry()) {
    std::string name = "`" + spec.name + "`";
    for (const auto& alias : spec.aliases) name += " (alias `" + alias + "`)";
    if (spec.secret) name += " *secret*";
    std::string type = spec.type;
    if (!spec.accepted.empty()) {
      type.clear();
      for (const auto& value : spec.accepted) type += (type.empty() ? "" : ", ") + ("`" + value + "`");
    }
    const std::string fallback = spec.default_value.empty() ? "" : "`" + spec.default_value + "`";
    out << "| " << name << " | " << type << " | " << markdown_cell(fallback) << " | " << markdown_cell(spec.description)
        << " |\n";
  }
  return out.str();
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

std::vector<VariableSpec> all_variables(const Settings& settings) {
  auto rows = config_registry();
  for (auto& row : kernel_variables(settings.kernel_name, settings.kernel_settings, settings.named_outputs)) {
    rows.push_back(std::move(row));
  }
  return rows;
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
