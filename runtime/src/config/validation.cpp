// Checks that hold between settings, in our variables' names. Each reads the typed Settings,
// so Settings given directly (Config::from_settings) get the same checks as the environment.
#include <algorithm>

#include "config/config_detail.hpp"

namespace kernel::config_detail {

namespace {

using Shown = std::map<std::string, std::string, std::less<>>;

class Checker {
 public:
  Checker(const Shown& shown, Problems& problems) : shown_(shown), problems_(problems) {}

  /// Reports `message` against `variable` unless an earlier problem already named it.
  void fail(std::string_view variable, std::string_view message) {
    if (problems_.mentions(variable)) return;
    const auto it = shown_.find(variable);
    problems_.add(variable, it == shown_.end() ? "" : it->second, message);
  }

 private:
  const Shown& shown_;
  Problems& problems_;
};

std::optional<long long> passthrough_number(const Settings& s, std::string_view property) {
  for (const auto& p : s.passthrough) {
    std::string error;
    if (p.property == property) return parse_integer(p.value, error);
  }
  return std::nullopt;
}

// One entry of KAFKA_BOOTSTRAP_SERVERS as librdkafka reads it: [proto://]host[:port], an IPv6
// host in brackets. librdkafka would take any text after the colon as a service name and
// only fail to connect, so a port that is no port would surface as "unreachable" (69) after
// the start-up timeout instead of here.
std::string broker_problem(std::string_view broker) {
  const std::string expected = "expected comma-separated host:port entries with a port from 1 to 65535, e.g. "
                               "broker1:9092,broker2:9092";
  const std::string each = "expected host:port with a port from 1 to 65535, e.g. broker1:9092";
  if (broker.empty() || broker.find_first_of(" \t") != std::string_view::npos) return expected;
  if (const auto scheme = broker.find("://"); scheme != std::string_view::npos) broker.remove_prefix(scheme + 3);
  std::string_view host = broker, port;
  if (broker.starts_with('[')) {
    const auto close = broker.find(']');
    if (close == std::string_view::npos) return "\"" + std::string(broker) + "\" has no closing ]; " + each;
    host = broker.substr(1, close - 1);
    const auto rest = broker.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return expected;
    if (!rest.empty()) port = rest.substr(1);
    if (rest == ":") return "\"" + std::string(broker) + "\" has an empty port; " + each;
  } else if (const auto colon = broker.rfind(':'); colon != std::string_view::npos) {
    if (broker.find(':') != colon) return {};  // a bare IPv6 address: librdkafka's to judge
    host = broker.substr(0, colon);
    port = broker.substr(colon + 1);
    if (port.empty()) return "\"" + std::string(broker) + "\" has an empty port; " + each;
  }
  if (host.empty()) return "\"" + std::string(broker) + "\" has no host; " + each;
  if (port.empty()) return {};  // no port: librdkafka uses 9092
  std::string error;
  const auto number = port.find_first_not_of("0123456789") == std::string_view::npos
                          ? parse_integer(port, error)
                          : std::nullopt;
  if (!number || *number < 1 || *number > 65535) {
    return "\"" + std::string(broker) + "\" has port " + std::string(port) + "; " + each;
  }
  return {};
}

void check_topics(const Settings& s, Checker& check, std::vector<std::string>& warnings) {
  if (!s.topic_prefix.empty()) {
    for (char c : s.topic_prefix) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
        check.fail("KAFKA_TOPIC_PREFIX", "expected only letters, digits, '.', '_' and '-'");
        break;
      }
    }
  }
  // Each name is judged as its variable gives it (without the prefix); only the length is
  // judged with the prefix, and a name the prefix makes too long is the prefix's problem.
  std::string longest;  // the longest name the prefix is prepended to, when it makes one too long
  auto check_name = [&](std::string_view variable, const std::string& topic, const std::string& what) {
    const auto name = topic.starts_with(s.topic_prefix) ? topic.substr(s.topic_prefix.size()) : topic;
    if (auto why = topic_name_problem(name); !why.empty()) {
      check.fail(variable, what + "\"" + name + "\" " + why);
    } else if (topic.size() > 249) {
      if (name.size() > longest.size()) longest = name;
    }
  };
  for (const auto& topic : s.input_topics) check_name("KAFKA_TOPIC", topic, "input topic ");
  if (s.output_topic) check_name("KAFKA_OUTPUT_TOPIC", *s.output_topic, "topic ");
  check_name("KAFKA_DLQ_TOPIC", s.dlq_topic, "topic ");
  if (!longest.empty()) {
    const auto room = 249 - static_cast<long long>(longest.size());
    check.fail("KAFKA_TOPIC_PREFIX",
               "makes topic " + longest + " " + std::to_string(s.topic_prefix.size() + longest.size()) +
                   " characters long, over Kafka's 249; expected at most " + std::to_string(room) +
                   " characters");
  }
  // Both sides carry the prefix, so names are compared as the brokers will see them.
  const auto is_input = [&](const std::string& topic) {
    return std::find(s.input_topics.begin(), s.input_topics.end(), topic) != s.input_topics.end();
  };
  if (s.output_topic && is_input(*s.output_topic)) {
    if (s.allow_output_to_input) {
      warnings.push_back("KERNEL_ALLOW_OUTPUT_TO_INPUT=true: the kernel consumes its own outputs to " +
                         *s.output_topic + "; its handler must end that loop");
    } else {
      check.fail("KAFKA_OUTPUT_TOPIC",
                 "is also an input topic (KAFKA_TOPIC): every output to " + *s.output_topic +
                     " would be consumed again, an endless loop; expected a topic not in KAFKA_TOPIC, or "
                     "KERNEL_ALLOW_OUTPUT_TO_INPUT=true when the handler ends the loop itself");
    }
  }
  // A dead letter consumed again fails again: that loop has no end, whatever is allowed.
  if (is_input(s.dlq_topic)) {
    check.fail("KAFKA_DLQ_TOPIC", "is also an input topic (KAFKA_TOPIC): dead letters to " + s.dlq_topic +
                                      " would be consumed again; expected a topic not in KAFKA_TOPIC");
  }
}

void check_security(const Settings& s, Checker& check, std::vector<std::string>& warnings) {
  const bool sasl = s.security_protocol.starts_with("SASL_");
  const bool ssl = s.security_protocol == "SSL" || s.security_protocol == "SASL_SSL";
  const bool sasl_given =
      !s.sasl_mechanism.empty() || !s.sasl_username.empty() || !s.sasl_password.empty();
  if (sasl) {
    if (s.sasl_mechanism.empty()) {
      check.fail("KAFKA_SASL_MECHANISM",
                 "required with " + s.security_protocol + ": expected PLAIN, SCRAM-SHA-256 or "
                 "SCRAM-SHA-512");
    }
    if (s.sasl_username.empty()) check.fail("KAFKA_SASL_USERNAME", "required with SASL");
    if (s.sasl_password.empty()) check.fail("KAFKA_SASL_PASSWORD", "required with SASL");
  } else if (sasl_given) {
    check.fail("KAFKA_SECURITY_PROTOCOL",
               "SASL settings are given but the protocol has no SASL; expected SASL_SSL (or "
               "leave KAFKA_SECURITY_PROTOCOL unset)");
  }
  if (s.security_protocol == "SASL_PLAINTEXT") {
    warnings.push_back(
        "KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT: the SASL password is sent unencrypted");
  }
  const bool tls_given =
      !s.ca_cert_pem.empty() || !s.client_cert_pem.empty() || !s.client_key_pem.empty();
  if (tls_given && !ssl) {
    check.fail("KAFKA_SECURITY_PROTOCOL",
               "certificates are given but the protocol has no TLS; expected SSL or SASL_SSL (or "
               "leave KAFKA_SECURITY_PROTOCOL unset)");
  }
  if (!s.client_cert_pem.empty() && s.client_key_pem.empty()) {
    check.fail("KAFKA_CLIENT_KEY", "required with KAFKA_CLIENT_CERT");
  }
  if (s.client_cert_pem.empty() && !s.client_key_pem.empty()) {
    check.fail("KAFKA_CLIENT_CERT", "required with KAFKA_CLIENT_KEY");
  }
  if (!s.client_key_password.empty() && s.client_key_pem.empty()) {
    check.fail("KAFKA_CLIENT_KEY_PASSWORD", "given without KAFKA_CLIENT_KEY");
  }
}

void check_producer(const Settings& s, Checker& check) {
  if (s.acks == "0") {
    check.fail("KAFKA_PRODUCER_REQUIRE_ACKS",
               "0 is refused: at-least-once needs acknowledgements; expected all (or -1), or 1 "
               "with KAFKA_PRODUCER_IDEMPOTENCE=false");
  } else if (s.acks == "1" && s.idempotence) {
    check.fail("KAFKA_PRODUCER_REQUIRE_ACKS",
               "1 needs KAFKA_PRODUCER_IDEMPOTENCE=false (an idempotent producer waits for all "
               "replicas); expected all or -1");
  } else if (s.acks != "all" && s.acks != "1") {
    check.fail("KAFKA_PRODUCER_REQUIRE_ACKS", "expected all, -1 or 1");
  }
  if (s.max_attempts < 1) {
    check.fail("KAFKA_PRODUCER_MAX_ATTEMPTS", "expected a whole number of at least 1");
  } else if (s.idempotence && s.max_attempts < 2) {
    check.fail("KAFKA_PRODUCER_MAX_ATTEMPTS",
               "expected at least 2 with an idempotent producer (it needs to retry), or set "
               "KAFKA_PRODUCER_IDEMPOTENCE=false");
  }
  static const std::vector<std::string> codecs{"none", "gzip", "snappy", "lz4", "zstd"};
  if (std::find(codecs.begin(), codecs.end(), s.compression) == codecs.end()) {
    check.fail("KAFKA_PRODUCER_COMPRESSION", "expected none, gzip, snappy, lz4 or zstd");
  }
}

void check_consumer(const Settings& s, Checker& check) {
  if (s.start_offset != "earliest" && s.start_offset != "latest") {
    check.fail("KAFKA_CONSUMER_START_OFFSET", "expected earliest, latest, -2 or -1");
  }
  if (s.fetch_min_bytes < 1) check.fail("KAFKA_CONSUMER_MIN_BYTES", "expected at least 1 byte");
  // librdkafka refuses fetch.max.bytes below message.max.bytes at rd_kafka_new.
  const auto message_max = passthrough_number(s, "message.max.bytes").value_or(1'000'000);
  if (s.fetch_max_bytes < message_max) {
    check.fail("KAFKA_CONSUMER_MAX_BYTES",
               "must be at least message.max.bytes (" + format_size(message_max) +
                   "), the largest record a broker may return; expected " +
                   format_size(message_max) + " or more");
  } else if (s.fetch_min_bytes > s.fetch_max_bytes) {
    check.fail("KAFKA_CONSUMER_MIN_BYTES", "must not exceed KAFKA_CONSUMER_MAX_BYTES");
  }
  if (s.commit_interval.count() <= 0) {
    check.fail("KAFKA_CONSUMER_COMMIT_INTERVAL", "expected a duration above 0, e.g. 1s");
  }
  if (s.heartbeat_interval >= s.session_timeout) {
    check.fail("KAFKA_CONSUMER_HEARTBEAT_INTERVAL",
               "must be below KAFKA_CONSUMER_SESSION_TIMEOUT (" +
                   format_duration(s.session_timeout) + "); a third of it is usual");
  }
  if (s.rebalance_timeout < s.session_timeout) {
    check.fail("KAFKA_CONSUMER_REBALANCE_TIMEOUT",
               "must be at least KAFKA_CONSUMER_SESSION_TIMEOUT (" +
                   format_duration(s.session_timeout) + ")");
  }
  if (s.max_retries < 0) check.fail("KAFKA_CONSUMER_MAX_RETRIES", "expected 0 or more");
  if (s.max_poll_records < 1) check.fail("KAFKA_MAX_POLL_RECORDS", "expected 1 or more");
}

void check_kernel(const Settings& s, Checker& check) {
  static const std::vector<std::string> levels{"trace", "debug", "info", "warn", "error"};
  if (std::find(levels.begin(), levels.end(), s.log_level) == levels.end()) {
    check.fail("KERNEL_LOG_LEVEL", "expected trace, debug, info, warn or error");
  }
  if (s.log_format != "text" && s.log_format != "json") {
    check.fail("KERNEL_LOG_FORMAT", "expected text or json");
  }
  if (s.shutdown_timeout.count() <= 0) {
    check.fail("KERNEL_SHUTDOWN_TIMEOUT", "expected a duration above 0, e.g. 25s");
  }
  if (s.startup_timeout.count() <= 0) {
    check.fail("KERNEL_STARTUP_TIMEOUT", "expected a duration above 0, e.g. 30s");
  }
  if (s.retry_backoff.count() <= 0) {
    check.fail("KERNEL_RETRY_BACKOFF", "expected a duration above 0, e.g. 200ms");
  } else if (s.retry_backoff > s.retry_backoff_max) {
    check.fail("KERNEL_RETRY_BACKOFF", "must not exceed KERNEL_RETRY_BACKOFF_MAX (" +
                                           format_duration(s.retry_backoff_max) + ")");
  }
  if (s.retry_multiplier < 1.0) check.fail("KERNEL_RETRY_MULTIPLIER", "expected 1.0 or more");
  if (s.retry_jitter < 0.0 || s.retry_jitter > 1.0) {
    check.fail("KERNEL_RETRY_JITTER", "expected a fraction from 0 to 1, e.g. 0.2");
  }
  if (s.http_port && (*s.http_port < 0 || *s.http_port > 65535)) {
    check.fail("KERNEL_HTTP_PORT", "expected a port 1..65535, 0 for a free port, or off");
  }
}

}  // namespace

void validate_settings(const Settings& s, const Shown& shown, Problems& problems,
                       std::vector<std::string>& warnings) {
  Checker check(shown, problems);
  if (s.bootstrap_servers.empty()) {
    check.fail("KAFKA_BOOTSTRAP_SERVERS",
               "required: expected brokers (host:port,...) or embedded");
  } else if (!s.embedded) {
    for (const auto& broker : split_list(s.bootstrap_servers)) {
      if (auto why = broker_problem(broker); !why.empty()) {
        check.fail("KAFKA_BOOTSTRAP_SERVERS", why);
        break;
      }
    }
  }
  check_topics(s, check, warnings);
  if (s.group_id.empty()) check.fail("KAFKA_CONSUMER_GROUP", "expected a group id");
  if (s.client_id.empty()) check.fail("KAFKA_CLIENT_ID", "expected a client id");
  check_security(s, check, warnings);
  check_producer(s, check);
  check_consumer(s, check);
  check_kernel(s, check);
}

}  // namespace kernel::config_detail

namespace kernel {

std::string topic_name_problem(std::string_view topic) {
  if (topic.empty()) return "is empty; expected 1 to 249 characters";
  if (topic.size() > 249) return "is longer than 249 characters";
  if (topic == "." || topic == "..") return "is not allowed ('.' and '..' are reserved)";
  for (char c : topic) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return "has characters outside [a-zA-Z0-9._-]";
    }
  }
  return {};
}

}  // namespace kernel
