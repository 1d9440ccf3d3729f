// From variables to Settings: each registry variable is read, parsed by its type and
// stored, with every problem collected rather than thrown at the first.
#include <arpa/inet.h>

#include <algorithm>
#include <limits>

#include "config/config_detail.hpp"

namespace kernel::config_detail {

namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

class Reader {
 public:
  Reader(const LayeredEnvironment& layers, Loaded& loaded, Problems& problems)
      : layers_(layers), loaded_(loaded), problems_(problems) {}

  /// The raw text of a variable (recording its source), or nullopt when unset.
  std::optional<RawValue> raw(std::string_view name) {
    const auto* spec = find_variable(name);
    auto value = layers_.get(*spec, problems_);
    if (value) {
      loaded_.sources[spec->name] = value->source;
      loaded_.shown[spec->name] = value->text;
    } else {
      loaded_.sources.try_emplace(spec->name, std::string(source::default_value));
    }
    return value;
  }

  void string(std::string_view name, std::string& field) {
    if (auto value = raw(name)) field = trim(value->text);
  }

  template <typename Parse, typename Field>
  void typed(std::string_view name, Field& field, Parse parse) {
    auto value = raw(name);
    if (!value) return;
    std::string error;
    if (auto parsed = parse(value->text, error)) {
      field = static_cast<Field>(*parsed);
    } else {
      problems_.add(value->name_used, value->text, error);
    }
  }

  void duration(std::string_view name, std::chrono::milliseconds& field) {
    typed(name, field, parse_duration);
  }
  void size(std::string_view name, long long& field) { typed(name, field, parse_size); }
  void boolean(std::string_view name, bool& field) { typed(name, field, parse_bool); }
  void number(std::string_view name, double& field) { typed(name, field, parse_number); }

  /// Integers with a lower bound; the bound is part of what "accepted" means.
  void integer(std::string_view name, int& field, long long minimum, std::string_view meaning) {
    auto value = raw(name);
    if (!value) return;
    std::string error;
    auto parsed = parse_integer(value->text, error);
    if (parsed && *parsed >= minimum && *parsed <= std::numeric_limits<int>::max()) {
      field = static_cast<int>(*parsed);
    } else {
      problems_.add(value->name_used, value->text,
                    "expected a whole number of at least " + std::to_string(minimum) +
                        std::string(meaning));
    }
  }

  /// One of the registry's accepted values; `canonical` maps synonyms (e.g. -2) to the
  /// name stored in Settings. Matching ignores case.
  void choice(std::string_view name, std::string& field,
              const std::vector<std::pair<std::string, std::string>>& canonical,
              std::string_view expected) {
    auto value = raw(name);
    if (!value) return;
    const auto text = upper(trim(value->text));
    for (const auto& [written, stored] : canonical) {
      if (upper(written) == text) {
        field = stored;
        return;
      }
    }
    problems_.add(value->name_used, value->text, "expected " + std::string(expected));
  }

 private:
  const LayeredEnvironment& layers_;
  Loaded& loaded_;
  Problems& problems_;
};

void read_pem(Reader& reader, std::string_view name, std::string& field, std::string_view what,
              Problems& problems) {
  auto value = reader.raw(name);
  if (!value) return;
  if (auto pem = decode_pem(value->text)) {
    field = std::move(*pem);
  } else {
    problems.add(value->name_used, value->text,
                 "not a PEM " + std::string(what) +
                     ": expected text starting with -----BEGIN, or base64 of it");
  }
}

void read_http_port(Reader& reader, Settings& s, RunMode mode, Problems& problems) {
  // --samples runs are throwaway: no endpoints unless asked for.
  if (mode == RunMode::samples) s.http_port.reset();
  auto value = reader.raw("KERNEL_HTTP_PORT");
  if (!value) return;
  const auto text = trim(value->text);
  if (text == "off") {
    s.http_port.reset();
    return;
  }
  std::string error;
  const auto port = parse_integer(text, error);
  if (port && *port >= 0 && *port <= 65535) {
    s.http_port = static_cast<int>(*port);
  } else if (text.starts_with("tcp://")) {
    problems.add(value->name_used, value->text,
                 "looks like a Kubernetes service variable (a service named kernel-http?); "
                 "expected a port 0..65535 or off");
  } else {
    problems.add(value->name_used, value->text,
                 "expected a port 1..65535, 0 for a free port, or off");
  }
}

void read_http_address(Reader& reader, Settings& s, Problems& problems) {
  auto value = reader.raw("KERNEL_HTTP_ADDRESS");
  if (!value) return;
  const auto text = std::string(trim(value->text));
  // A literal address: the server binds exactly what it is given, and a host name could
  // resolve to several addresses, or to none at the next start.
  in6_addr ignored{};
  if (inet_pton(AF_INET, text.c_str(), &ignored) == 1 || inet_pton(AF_INET6, text.c_str(), &ignored) == 1) {
    s.http_address = text;
  } else {
    problems.add(value->name_used, value->text,
                 "expected an IP address: 0.0.0.0 (all interfaces), 127.0.0.1 (this host only) or "
                 "another address of this host");
  }
}

void read_bootstrap(Reader& reader, Loaded& loaded, RunMode mode, Problems& problems) {
  auto& s = loaded.settings;
  const auto value = reader.raw("KAFKA_BOOTSTRAP_SERVERS");
  if (value) s.bootstrap_servers = trim(value->text);
  if (mode == RunMode::samples) {
    if (value && s.bootstrap_servers != "embedded") {
      loaded.warnings.push_back("--samples uses the embedded broker; " + value->name_used +
                                "=" + s.bootstrap_servers + " is not used");
    }
    s.bootstrap_servers = "embedded";
    loaded.sources["KAFKA_BOOTSTRAP_SERVERS"] = "--samples";
  } else if (!value && mode == RunMode::dev) {
    s.bootstrap_servers = "embedded";
    loaded.sources["KAFKA_BOOTSTRAP_SERVERS"] = "--dev";
  } else if (!value) {
    problems.add_without_value(
        "KAFKA_BOOTSTRAP_SERVERS",
        "required: set it to your brokers (host:port,...), or to embedded for the in-process "
        "development broker, or run with --dev");
  }
  s.embedded = s.bootstrap_servers == "embedded";
}

std::string with_prefix(const std::string& prefix, const std::string& topic) {
  return prefix + topic;
}

void read_topics(Reader& reader, Loaded& loaded, const KernelDefaults& defaults,
                 Problems& problems) {
  auto& s = loaded.settings;
  reader.string("KAFKA_TOPIC_PREFIX", s.topic_prefix);

  s.input_topics = defaults.input_topics;
  loaded.sources["KAFKA_TOPIC"] = std::string(source::code);
  if (auto value = reader.raw("KAFKA_TOPIC")) {
    s.input_topics.clear();
    for (auto& topic : split_list(value->text)) {
      if (topic.empty()) {
        problems.add(value->name_used, value->text,
                     "expected comma-separated topic names with none empty");
        continue;
      }
      if (std::find(s.input_topics.begin(), s.input_topics.end(), topic) == s.input_topics.end()) {
        s.input_topics.push_back(topic);
      }
    }
  }
  if (s.input_topics.empty() && !problems.mentions("KAFKA_TOPIC")) {
    problems.add_without_value("KAFKA_TOPIC",
                               "no input topics: the kernel names none, so set KAFKA_TOPIC");
  }

  s.output_topic = defaults.output_topic;
  loaded.sources["KAFKA_OUTPUT_TOPIC"] =
      std::string(defaults.output_topic ? source::code : source::default_value);
  if (auto value = reader.raw("KAFKA_OUTPUT_TOPIC")) s.output_topic = trim(value->text);

  s.dlq_topic = defaults.name + ".dlq";
  loaded.sources["KAFKA_DLQ_TOPIC"] = std::string(source::code);
  if (auto value = reader.raw("KAFKA_DLQ_TOPIC")) s.dlq_topic = trim(value->text);

  reader.boolean("KERNEL_ALLOW_OUTPUT_TO_INPUT", s.allow_output_to_input);

  // The prefix is applied exactly once, here; produce() applies it to explicit names.
  for (auto& topic : s.input_topics) topic = with_prefix(s.topic_prefix, topic);
  if (s.output_topic) s.output_topic = with_prefix(s.topic_prefix, *s.output_topic);
  s.dlq_topic = with_prefix(s.topic_prefix, s.dlq_topic);
}

}  // namespace

Loaded read_settings(const KernelDefaults& defaults, const Environment& environment,
                     RunMode mode, const std::filesystem::path& dotenv, Problems& problems) {
  Loaded loaded;
  const LayeredEnvironment layers(environment, read_dotenv(dotenv, problems));
  Reader reader(layers, loaded, problems);
  auto& s = loaded.settings;

  s.kernel_name = defaults.name;
  read_bootstrap(reader, loaded, mode, problems);
  read_topics(reader, loaded, defaults, problems);

  s.group_id = defaults.name;
  s.client_id = defaults.name;
  reader.string("KAFKA_CONSUMER_GROUP", s.group_id);
  reader.string("KAFKA_CLIENT_ID", s.client_id);
  // Unset, they come from the kernel's name, which its code gives.
  for (const auto* name : {"KAFKA_CONSUMER_GROUP", "KAFKA_CLIENT_ID"}) {
    if (loaded.sources[name] == source::default_value) loaded.sources[name] = source::code;
  }

  read_pem(reader, "KAFKA_CA_CERT", s.ca_cert_pem, "certificate", problems);
  read_pem(reader, "KAFKA_CLIENT_CERT", s.client_cert_pem, "certificate", problems);
  read_pem(reader, "KAFKA_CLIENT_KEY", s.client_key_pem, "private key", problems);
  if (auto value = reader.raw("KAFKA_CLIENT_KEY_PASSWORD")) s.client_key_password = value->text;
  reader.choice("KAFKA_SASL_MECHANISM", s.sasl_mechanism,
                {{"PLAIN", "PLAIN"}, {"SCRAM-SHA-256", "SCRAM-SHA-256"},
                 {"SCRAM-SHA-512", "SCRAM-SHA-512"}},
                "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512");
  reader.string("KAFKA_SASL_USERNAME", s.sasl_username);
  if (auto value = reader.raw("KAFKA_SASL_PASSWORD")) s.sasl_password = value->text;
  std::string protocol;
  reader.choice("KAFKA_SECURITY_PROTOCOL", protocol,
                {{"PLAINTEXT", "PLAINTEXT"}, {"SSL", "SSL"}, {"SASL_PLAINTEXT", "SASL_PLAINTEXT"},
                 {"SASL_SSL", "SASL_SSL"}},
                "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL");
  // Derived unless given: SASL implies SASL_SSL, any certificate or key implies SSL.
  if (!protocol.empty()) {
    s.security_protocol = protocol;
  } else if (!s.sasl_mechanism.empty() || !s.sasl_username.empty() || !s.sasl_password.empty()) {
    s.security_protocol = "SASL_SSL";
  } else if (!s.ca_cert_pem.empty() || !s.client_cert_pem.empty() || !s.client_key_pem.empty()) {
    s.security_protocol = "SSL";
  }
  if (protocol.empty()) loaded.sources["KAFKA_SECURITY_PROTOCOL"] = "derived";

  reader.boolean("KAFKA_PRODUCER_IDEMPOTENCE", s.idempotence);
  reader.choice("KAFKA_PRODUCER_REQUIRE_ACKS", s.acks,
                {{"all", "all"}, {"-1", "all"}, {"1", "1"}, {"0", "0"}},
                "all, -1 or 1 (1 only with KAFKA_PRODUCER_IDEMPOTENCE=false)");
  reader.integer("KAFKA_PRODUCER_MAX_ATTEMPTS", s.max_attempts, 1, " (attempts per output)");
  reader.duration("KAFKA_PRODUCER_BATCH_TIMEOUT", s.linger);
  reader.choice("KAFKA_PRODUCER_COMPRESSION", s.compression,
                {{"none", "none"}, {"gzip", "gzip"}, {"snappy", "snappy"}, {"lz4", "lz4"},
                 {"zstd", "zstd"}},
                "none, gzip, snappy, lz4 or zstd");
  bool async = true;
  reader.boolean("KAFKA_PRODUCER_ASYNC", async);
  if (loaded.sources["KAFKA_PRODUCER_ASYNC"] != source::default_value) {
    loaded.warnings.push_back(
        "KAFKA_PRODUCER_ASYNC is accepted for compatibility only: the kernel always produces "
        "asynchronously and commits an input only after its outputs are acknowledged, which "
        "is as durable as synchronous writes");
  }

  reader.choice("KAFKA_CONSUMER_START_OFFSET", s.start_offset,
                {{"earliest", "earliest"}, {"-2", "earliest"}, {"latest", "latest"},
                 {"-1", "latest"}},
                "earliest, latest, -2 or -1");
  reader.size("KAFKA_CONSUMER_MIN_BYTES", s.fetch_min_bytes);
  reader.size("KAFKA_CONSUMER_MAX_BYTES", s.fetch_max_bytes);
  reader.duration("KAFKA_CONSUMER_MAX_WAIT", s.fetch_max_wait);
  reader.duration("KAFKA_CONSUMER_COMMIT_INTERVAL", s.commit_interval);
  reader.duration("KAFKA_CONSUMER_HEARTBEAT_INTERVAL", s.heartbeat_interval);
  reader.duration("KAFKA_CONSUMER_SESSION_TIMEOUT", s.session_timeout);
  reader.duration("KAFKA_CONSUMER_REBALANCE_TIMEOUT", s.rebalance_timeout);
  reader.integer("KAFKA_CONSUMER_MAX_RETRIES", s.max_retries, 0, " (retries before dead-lettering)");
  reader.string("KAFKA_CONSUMER_INSTANCE_ID", s.instance_id);
  reader.integer("KAFKA_MAX_POLL_RECORDS", s.max_poll_records, 1, " (messages per partition)");

  reader.choice("KERNEL_LOG_LEVEL", s.log_level,
                {{"trace", "trace"}, {"debug", "debug"}, {"info", "info"}, {"warn", "warn"},
                 {"warning", "warn"}, {"error", "error"}},
                "trace, debug, info, warn or error");
  reader.choice("KERNEL_LOG_FORMAT", s.log_format, {{"text", "text"}, {"json", "json"}},
                "text or json");
  reader.duration("KERNEL_SHUTDOWN_TIMEOUT", s.shutdown_timeout);
  reader.duration("KERNEL_STARTUP_TIMEOUT", s.startup_timeout);
  reader.duration("KERNEL_RETRY_BACKOFF", s.retry_backoff);
  reader.duration("KERNEL_RETRY_BACKOFF_MAX", s.retry_backoff_max);
  reader.number("KERNEL_RETRY_MULTIPLIER", s.retry_multiplier);
  reader.number("KERNEL_RETRY_JITTER", s.retry_jitter);
  read_http_port(reader, s, mode, problems);
  read_http_address(reader, s, problems);
  if (auto value = reader.raw("KERNEL_ADMIN_TOKEN")) s.admin_token = value->text;

  const auto variables = layers.all();
  s.passthrough = read_passthrough(variables, problems);
  for (const auto& p : s.passthrough) {
    loaded.sources[p.variable] = variables.at(p.variable).source;
    loaded.shown[p.variable] = p.value;
  }
  warn_unknown_variables(variables, loaded.warnings);
  return loaded;
}

}  // namespace kernel::config_detail
