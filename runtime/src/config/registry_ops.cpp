// The registry's rows for the ops endpoints: health, metrics and admin (registry_rows.hpp).
// Part of kernel_config.
#include "config/registry_rows.hpp"

namespace kernel::config_detail::registry_rows {

std::vector<VariableSpec> ops_rows() {
  using S = Settings;
  return {
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
      stored_in(&S::metrics_max_series, whole_number(1, " (series per metric)"),
                {.name = env_var::KERNEL_METRICS_MAX_SERIES,
                 .default_value = "1000",
                 .description = "Most series of each of the kernel's own metrics (context.metrics()); past it, new "
                                "label values are counted in the series labelled other, and a warning is logged "
                                "once per metric (docs/interop.md)"}),
      stored_in(&S::client_metrics, boolean(),
                {.name = env_var::KERNEL_CLIENT_METRICS,
                 .default_value = "false",
                 .description = "true: librdkafka's statistics (broker round trips, fetch queues, producer queue, "
                                "transmit errors) on /metrics as kernel_client_*, read every "
                                "KERNEL_CLIENT_METRICS_INTERVAL"}),
      stored_in(&S::client_metrics_interval, duration(Zero::refused),
                {.name = env_var::KERNEL_CLIENT_METRICS_INTERVAL,
                 .default_value = "15s",
                 .description = "How often librdkafka reports its statistics when KERNEL_CLIENT_METRICS is true",
                 .rdkafka = {{.name = "statistics.interval.ms",
                              .clients = RdkafkaClients::both,
                              .value = [](const Settings& s) -> std::optional<std::string> {
                                if (!s.client_metrics || !s.http_port) return std::nullopt;
                                return std::to_string(s.client_metrics_interval.count());
                              }}}}),
      stored_in(&S::schema_registry_url, text(),
                {.name = env_var::KAFKA_SCHEMA_REGISTRY_URL,
                 .description = "Schema registry (Confluent's REST API) for Message::protobuf() and "
                                "Outgoing::protobuf(): http://host:port or https://host:port, verified with "
                                "KAFKA_CA_CERT, KAFKA_CLIENT_CERT and KAFKA_CLIENT_KEY when set; unset: none "
                                "(docs/interop.md)"}),
      stored_in(&S::schema_registry_user, text(),
                {.name = env_var::KAFKA_SCHEMA_REGISTRY_USER,
                 .description = "User of the schema registry's basic authentication"}),
      stored_in(&S::schema_registry_password, verbatim(),
                {.name = env_var::KAFKA_SCHEMA_REGISTRY_PASSWORD,
                 .secret = true,
                 .description = "Password of the schema registry's basic authentication"}),
      stored_in(&S::subject_strategy, choice<SubjectStrategy>(),
                {.name = env_var::KAFKA_SCHEMA_REGISTRY_SUBJECT_STRATEGY,
                 .default_value = "topic",
                 .description = "Subject an output's schema is registered under: topic (<topic>-value, "
                                "TopicNameStrategy) or record (the message's full name, RecordNameStrategy)"}),
  };
}

}  // namespace kernel::config_detail::registry_rows
