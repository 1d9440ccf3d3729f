// Settings back to the text a user would write for each variable: for --print-config and
// for quoting values in problems when Settings were given directly.
#include "config/config_detail.hpp"

namespace kernel::config_detail {

std::map<std::string, std::string, std::less<>> effective_values(const Settings& s) {
  const auto yes_no = [](bool value) { return std::string(value ? "true" : "false"); };
  std::map<std::string, std::string, std::less<>> values{
      {"KAFKA_BOOTSTRAP_SERVERS", s.bootstrap_servers},
      {"KAFKA_TOPIC", join(s.input_topics, ",")},
      {"KAFKA_OUTPUT_TOPIC", s.output_topic.value_or("")},
      {"KAFKA_DLQ_TOPIC", s.dlq_topic},
      {"KAFKA_CONSUMER_GROUP", s.group_id},
      {"KAFKA_CLIENT_ID", s.client_id},
      {"KAFKA_TOPIC_PREFIX", s.topic_prefix},
      {"KERNEL_ALLOW_OUTPUT_TO_INPUT", yes_no(s.allow_output_to_input)},
      {"KAFKA_CA_CERT", s.ca_cert_pem},
      {"KAFKA_CLIENT_CERT", s.client_cert_pem},
      {"KAFKA_CLIENT_KEY", s.client_key_pem},
      {"KAFKA_CLIENT_KEY_PASSWORD", s.client_key_password},
      {"KAFKA_SASL_MECHANISM", s.sasl_mechanism},
      {"KAFKA_SASL_USERNAME", s.sasl_username},
      {"KAFKA_SASL_PASSWORD", s.sasl_password},
      {"KAFKA_SECURITY_PROTOCOL", s.security_protocol},
      {"KAFKA_PRODUCER_IDEMPOTENCE", yes_no(s.idempotence)},
      {"KAFKA_PRODUCER_REQUIRE_ACKS", s.acks},
      {"KAFKA_PRODUCER_MAX_ATTEMPTS", std::to_string(s.max_attempts)},
      {"KAFKA_PRODUCER_BATCH_TIMEOUT", format_duration(s.linger)},
      {"KAFKA_PRODUCER_COMPRESSION", s.compression},
      {"KAFKA_PRODUCER_ASYNC", "true"},
      {"KAFKA_CONSUMER_START_OFFSET", s.start_offset},
      {"KAFKA_CONSUMER_MIN_BYTES", format_size(s.fetch_min_bytes)},
      {"KAFKA_CONSUMER_MAX_BYTES", format_size(s.fetch_max_bytes)},
      {"KAFKA_CONSUMER_MAX_WAIT", format_duration(s.fetch_max_wait)},
      {"KAFKA_CONSUMER_COMMIT_INTERVAL", format_duration(s.commit_interval)},
      {"KAFKA_CONSUMER_HEARTBEAT_INTERVAL", format_duration(s.heartbeat_interval)},
      {"KAFKA_CONSUMER_SESSION_TIMEOUT", format_duration(s.session_timeout)},
      {"KAFKA_CONSUMER_REBALANCE_TIMEOUT", format_duration(s.rebalance_timeout)},
      {"KAFKA_CONSUMER_MAX_RETRIES", std::to_string(s.max_retries)},
      {"KAFKA_CONSUMER_INSTANCE_ID", s.instance_id},
      {"KAFKA_MAX_POLL_RECORDS", std::to_string(s.max_poll_records)},
      {"KERNEL_LOG_LEVEL", s.log_level},
      {"KERNEL_LOG_FORMAT", s.log_format},
      {"KERNEL_SHUTDOWN_TIMEOUT", format_duration(s.shutdown_timeout)},
      {"KERNEL_STARTUP_TIMEOUT", format_duration(s.startup_timeout)},
      {"KERNEL_RETRY_BACKOFF", format_duration(s.retry_backoff)},
      {"KERNEL_RETRY_BACKOFF_MAX", format_duration(s.retry_backoff_max)},
      {"KERNEL_RETRY_MULTIPLIER", format_number(s.retry_multiplier)},
      {"KERNEL_RETRY_JITTER", format_number(s.retry_jitter)},
      {"KERNEL_HTTP_PORT", s.http_port ? std::to_string(*s.http_port) : "off"},
      {"KERNEL_HTTP_ADDRESS", s.http_address},
      {"KERNEL_ADMIN_TOKEN", s.admin_token},
  };
  for (const auto& p : s.passthrough) values[p.variable] = p.value;
  return values;
}

}  // namespace kernel::config_detail
