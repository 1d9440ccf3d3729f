// The registry's rows for the Kafka clients: the brokers and topics, TLS and SASL, the producer
// and the consumer, each with the librdkafka properties it sets (registry_rows.hpp). Part of
// kernel_config.
#include <algorithm>

#include "config/registry_rows.hpp"

namespace kernel::config_detail::registry_rows {

namespace {

std::string brokers_problem(const std::string& servers, std::string_view) {
  if (servers.empty()) return "required: expected brokers (host:port,...) or embedded";
  if (servers == "embedded") return {};
  for (const auto& broker : split_list(servers)) {
    if (auto why = broker_problem(broker); !why.empty()) return why;
  }
  return {};
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

}  // namespace

std::vector<VariableSpec> kafka_rows() {
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
  };
}

}  // namespace kernel::config_detail::registry_rows
