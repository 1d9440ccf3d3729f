// Configuration problems, one line each, and the checks every Settings gets: each
// variable's own constraints from the registry, then the relations between settings. Each
// reads the typed Settings, so Settings given directly (Config::from_settings) get the same
// checks as the environment.
#include <algorithm>

#include "config/handler_choice.hpp"
#include "config/registry_lookup.hpp"
#include "config/secrets.hpp"
#include "config/settings.hpp"
#include "config/validate.hpp"
#include "config/values.hpp"
#include "core/printable_text.hpp"

namespace kernel {

namespace {
std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += (text.empty() ? "" : "\n") + line;
  return text;
}
}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

namespace config_detail {

std::string printable_value(std::string_view value) {
  // Shown between quotes; long values are cut so that each problem stays one readable line.
  return detail::printable_text(value, detail::Quotes::escaped, 120);
}

void Problems::add(std::string_view variable, std::string_view value, std::string_view message) {
  const auto* spec = find_variable(variable);
  const bool secret = is_secret_name(variable) || hidden_.contains(variable);
  const bool pem = spec != nullptr && spec->type == "pem";
  std::string line = "config error: " + std::string(variable);
  if (secret) {
    line += ": " + std::string(message) + " (value hidden)";
  } else if (pem) {
    line += ": " + std::string(message);
  } else {
    line += "=\"" + printable_value(value) + "\": " + std::string(message);
  }
  variables_.insert(std::string(variable));
  lines_.push_back(std::move(line));
}

void Problems::add_without_value(std::string_view variable, std::string_view message) {
  variables_.insert(std::string(variable));
  lines_.push_back("config error: " + std::string(variable) + ": " + std::string(message) +
                   (is_secret_name(variable) ? " (value hidden)" : ""));
}

void Problems::add_general(std::string_view message) { lines_.push_back("config error: " + std::string(message)); }

namespace {

class Checker {
 public:
  Checker(const Values& shown, Problems& problems) : shown_(shown), problems_(problems) {}

  /// Reports `message` against `variable` unless an earlier problem already named it.
  void fail(std::string_view variable, std::string_view message) {
    if (problems_.mentions(variable)) return;
    const auto it = shown_.find(variable);
    problems_.add(variable, it == shown_.end() ? "" : it->second, message);
  }
  /// A relation with a variable already refused on its own would only repeat that problem.
  bool refused(std::string_view variable) const { return problems_.mentions(variable); }

 private:
  const Values& shown_;
  Problems& problems_;
};

std::optional<long long> passthrough_number(const Settings& s, std::string_view property) {
  for (const auto& p : s.passthrough) {
    if (p.property != property) continue;
    const auto number = parse_integer(p.value);
    return number ? std::optional(*number) : std::nullopt;
  }
  return std::nullopt;
}

void check_topics(const Settings& s, Checker& check, std::vector<std::string>& warnings) {
  if (!s.topic_prefix.empty()) {
    for (char c : s.topic_prefix) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
        check.fail(env_var::KAFKA_TOPIC_PREFIX, "expected only letters, digits, '.', '_' and '-'");
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
  for (const auto& topic : s.input_topics) check_name(env_var::KAFKA_TOPIC, topic, "input topic ");
  if (s.output_topic) check_name(env_var::KAFKA_OUTPUT_TOPIC, *s.output_topic, "topic ");
  for (const auto& [output, topic] : s.kernel_values.outputs()) {
    check_name(output_variable(output), s.topic_prefix + topic, "topic ");
  }
  check_name(env_var::KAFKA_DLQ_TOPIC, s.dlq_topic, "topic ");
  if (s.error_topic) check_name(env_var::KAFKA_ERROR_TOPIC, *s.error_topic, "topic ");
  if (!longest.empty()) {
    const auto room = 249 - static_cast<long long>(longest.size());
    check.fail(env_var::KAFKA_TOPIC_PREFIX,
               "makes topic " + longest + " " + std::to_string(s.topic_prefix.size() + longest.size()) +
                   " characters long, over Kafka's 249; expected at most " + std::to_string(room) + " characters");
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
      check.fail(env_var::KAFKA_OUTPUT_TOPIC,
                 "is also an input topic (KAFKA_TOPIC): every output to " + *s.output_topic +
                     " would be consumed again, an endless loop; expected a topic not in KAFKA_TOPIC, or "
                     "KERNEL_ALLOW_OUTPUT_TO_INPUT=true when the handler ends the loop itself");
    }
  }
  for (const auto& [output, unprefixed] : s.kernel_values.outputs()) {
    const auto topic = s.topic_prefix + unprefixed;
    if (!is_input(topic) || s.allow_output_to_input) continue;
    check.fail(output_variable(output),
               "is also an input topic (KAFKA_TOPIC): every output to " + topic +
                   " would be consumed again, an endless loop; expected a topic not in KAFKA_TOPIC, or "
                   "KERNEL_ALLOW_OUTPUT_TO_INPUT=true when the handler ends the loop itself");
  }
  // A dead letter consumed again fails again: that loop has no end, whatever is allowed.
  if (is_input(s.dlq_topic)) {
    check.fail(env_var::KAFKA_DLQ_TOPIC, "is also an input topic (KAFKA_TOPIC): dead letters to " + s.dlq_topic +
                                             " would be consumed again; expected a topic not in KAFKA_TOPIC");
  }
  if (s.error_topic && is_input(*s.error_topic)) {
    check.fail(env_var::KAFKA_ERROR_TOPIC, "is also an input topic (KAFKA_TOPIC): business errors to " +
                                               *s.error_topic +
                                               " would be consumed again; expected a topic not in KAFKA_TOPIC");
  }
}

void check_security(const Settings& s, Checker& check, std::vector<std::string>& warnings) {
  const auto protocol = s.security_protocol;
  const bool sasl = protocol == SecurityProtocol::sasl_plaintext || protocol == SecurityProtocol::sasl_ssl;
  const bool tls = protocol == SecurityProtocol::ssl || protocol == SecurityProtocol::sasl_ssl;
  const bool sasl_given = s.sasl_mechanism || !s.sasl_username.empty() || !s.sasl_password.empty();
  if (sasl) {
    if (!s.sasl_mechanism) {
      check.fail(env_var::KAFKA_SASL_MECHANISM, "required with " + std::string(to_string(protocol)) +
                                                    ": expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512");
    }
    if (s.sasl_username.empty()) check.fail(env_var::KAFKA_SASL_USERNAME, "required with SASL");
    if (s.sasl_password.empty()) check.fail(env_var::KAFKA_SASL_PASSWORD, "required with SASL");
  } else if (sasl_given) {
    check.fail(env_var::KAFKA_SECURITY_PROTOCOL,
               "SASL settings are given but the protocol has no SASL; expected SASL_SSL (or "
               "leave KAFKA_SECURITY_PROTOCOL unset)");
  }
  if (protocol == SecurityProtocol::sasl_plaintext) {
    warnings.push_back("KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT: the SASL password is sent unencrypted");
  }
  const bool tls_given = !s.ca_cert_pem.empty() || !s.client_cert_pem.empty() || !s.client_key_pem.empty();
  if (tls_given && !tls) {
    check.fail(env_var::KAFKA_SECURITY_PROTOCOL,
               "certificates are given but the protocol has no TLS; expected SSL or SASL_SSL (or "
               "leave KAFKA_SECURITY_PROTOCOL unset)");
  }
  if (!s.client_cert_pem.empty() && s.client_key_pem.empty()) {
    check.fail(env_var::KAFKA_CLIENT_KEY, "required with KAFKA_CLIENT_CERT");
  }
  if (s.client_cert_pem.empty() && !s.client_key_pem.empty()) {
    check.fail(env_var::KAFKA_CLIENT_CERT, "required with KAFKA_CLIENT_KEY");
  }
  if (!s.client_key_password.empty() && s.client_key_pem.empty()) {
    check.fail(env_var::KAFKA_CLIENT_KEY_PASSWORD, "given without KAFKA_CLIENT_KEY");
  }
}

void check_producer(const Settings& s, Checker& check) {
  if (s.acks == Acks::leader && s.idempotence) {
    check.fail(env_var::KAFKA_PRODUCER_REQUIRE_ACKS,
               "1 needs KAFKA_PRODUCER_IDEMPOTENCE=false (an idempotent producer waits for all "
               "replicas); expected all or -1");
  }
  if (s.delivery == DeliveryGuarantee::exactly_once && !s.idempotence) {
    check.fail(env_var::KERNEL_DELIVERY,
               "exactly_once needs an idempotent producer (transactions are built on it); set "
               "KAFKA_PRODUCER_IDEMPOTENCE=true or KERNEL_DELIVERY=at_least_once");
  }
  for (const auto& p : s.passthrough) {
    if (s.delivery == DeliveryGuarantee::exactly_once && p.property == "isolation.level" &&
        p.value != "read_committed") {
      check.fail(p.variable, "exactly_once reads only committed records; remove " + p.variable +
                                 " or set KERNEL_DELIVERY=at_least_once");
    }
  }
  if (s.idempotence && s.max_attempts < 2) {
    check.fail(env_var::KAFKA_PRODUCER_MAX_ATTEMPTS,
               "expected at least 2 with an idempotent producer (it needs to retry), or set "
               "KAFKA_PRODUCER_IDEMPOTENCE=false");
  }
}

void check_consumer(const Settings& s, Checker& check) {
  // librdkafka refuses fetch.max.bytes below message.max.bytes at rd_kafka_new.
  const auto message_max = passthrough_number(s, "message.max.bytes").value_or(1'000'000);
  if (s.fetch_max_bytes < message_max) {
    check.fail(env_var::KAFKA_CONSUMER_MAX_BYTES, "must be at least message.max.bytes (" + format_size(message_max) +
                                                      "), the largest record a broker may return; expected " +
                                                      format_size(message_max) + " or more");
  } else if (s.fetch_min_bytes > s.fetch_max_bytes) {
    check.fail(env_var::KAFKA_CONSUMER_MIN_BYTES, "must not exceed KAFKA_CONSUMER_MAX_BYTES");
  }
  if (s.heartbeat_interval >= s.session_timeout && !check.refused(env_var::KAFKA_CONSUMER_SESSION_TIMEOUT)) {
    check.fail(env_var::KAFKA_CONSUMER_HEARTBEAT_INTERVAL, "must be below KAFKA_CONSUMER_SESSION_TIMEOUT (" +
                                                               format_duration(s.session_timeout) +
                                                               "); a third of it is usual");
  }
  if (s.rebalance_timeout < s.session_timeout && !check.refused(env_var::KAFKA_CONSUMER_SESSION_TIMEOUT)) {
    check.fail(env_var::KAFKA_CONSUMER_REBALANCE_TIMEOUT,
               "must be at least KAFKA_CONSUMER_SESSION_TIMEOUT (" + format_duration(s.session_timeout) + ")");
  }
}

void check_retries(const Settings& s, Checker& check) {
  if (s.retry_backoff > s.retry_backoff_max && !check.refused(env_var::KERNEL_RETRY_BACKOFF_MAX)) {
    check.fail(env_var::KERNEL_RETRY_BACKOFF,
               "must not exceed KERNEL_RETRY_BACKOFF_MAX (" + format_duration(s.retry_backoff_max) + ")");
  }
  if (s.breaker_cooldown > s.breaker_cooldown_max && !check.refused(env_var::KERNEL_BREAKER_COOLDOWN_MAX)) {
    check.fail(env_var::KERNEL_BREAKER_COOLDOWN,
               "must not exceed KERNEL_BREAKER_COOLDOWN_MAX (" + format_duration(s.breaker_cooldown_max) + ")");
  }
}

// A batch_handler is called on the loop thread, one batch at a time, and a batch is collected
// within its partition's in-flight bound (docs/batches.md).
void check_batches(const Settings& s, Checker& check) {
  if (!s.batch_handler) return;
  if (s.concurrency > 1) {
    check.fail(env_var::KERNEL_CONCURRENCY,
               "a batch_handler is called one batch at a time on the loop thread; unset KERNEL_CONCURRENCY (or set "
               "it to 1) for a batch kernel");
  }
  if (s.batch_size > s.max_poll_records) {
    check.fail(env_var::KERNEL_BATCH_SIZE, "must not exceed KAFKA_MAX_POLL_RECORDS (" +
                                               std::to_string(s.max_poll_records) +
                                               "); lower KERNEL_BATCH_SIZE or raise KAFKA_MAX_POLL_RECORDS");
  }
}

}  // namespace

void check_handler_choice(const Settings& s, Problems& problems) {
  if (!s.handler_choice) return;
  for (const auto& line : handler_choice_problems(s.kernel_name, *s.handler_choice)) {
    problems.add_general(std::string_view(line).substr(std::string_view("config error: ").size()));
  }
}

Values effective_values(const Settings& s) {
  Values values;
  for (const auto& spec : all_variables(s)) values[spec.name] = spec.show(s);
  for (const auto& p : s.passthrough) values[p.variable] = p.value;
  return values;
}

void validate_settings(const Settings& s, const Values& shown, Problems& problems, std::vector<std::string>& warnings) {
  Checker check(shown, problems);
  for (const auto& spec : config_registry()) {
    if (auto why = spec.check(s); !why.empty()) check.fail(spec.name, why);
  }
  check_topics(s, check, warnings);
  check_security(s, check, warnings);
  check_producer(s, check);
  check_consumer(s, check);
  check_retries(s, check);
  check_batches(s, check);
}

}  // namespace config_detail

std::vector<std::string> handler_choice_problems(std::string_view kernel_name, const HandlerChoice& choice) {
  std::vector<std::string> problems;
  const std::string kernel = "config error: kernel " + std::string(kernel_name);
  if (choice.handler && choice.batch_handler) {
    problems.push_back(kernel +
                       " sets both KernelSpec::handler and KernelSpec::batch_handler; set exactly one of them");
  } else if (!choice.handler && !choice.batch_handler) {
    problems.push_back(kernel +
                       " sets neither KernelSpec::handler nor KernelSpec::batch_handler; set exactly one of them");
  }
  if (choice.batch_handler && choice.consumer_middleware) {
    problems.push_back(kernel +
                       " has consumer middleware, which does not wrap batch_handler calls; remove "
                       "KernelSpec::middleware (producer middleware is fine)");
  }
  return problems;
}

}  // namespace kernel
