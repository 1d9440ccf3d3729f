#pragma once
/// Kernel configuration: read from the environment (a `.env` file fills what it leaves
/// unset), validated all at once before anything connects, and turned into librdkafka
/// properties. Every variable is declared once in the registry (config_registry()), which
/// drives parsing, validation, --print-config, the docs and the generator's .env.template.
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kernel {

namespace config_detail {
struct Loaded;
class Problems;
}  // namespace config_detail

using Environment = std::map<std::string, std::string, std::less<>>;

/// The process environment as a map.
Environment process_environment();

/// What the kernel's code fixes: its name and default topics.
struct KernelDefaults {
  std::string name;
  std::vector<std::string> input_topics;
  std::optional<std::string> output_topic;
};

enum class RunMode { production, dev, samples };

/// One or more configuration problems, one line each
/// (`config error: VAR="value": expected ...`). Exit code 78.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  std::vector<std::string> problems_;
};

/// One row of the registry.
struct VariableSpec {
  std::string name;
  std::vector<std::string> aliases;
  std::string type;  ///< string, list, duration, size, bool, int, float, enum, pem, port
  std::string default_value;   ///< as a user would write it; empty when unset by default
  bool secret = false;
  std::string description;
  std::vector<std::string> accepted;  ///< for enums
};

/// Every variable the runtime reads, in documentation order.
const std::vector<VariableSpec>& config_registry();
/// The registry as JSON (an array of objects with the VariableSpec fields).
std::string config_registry_json();
/// The registry as a Markdown reference (docs/configuration.md).
std::string config_registry_markdown();

/// A librdkafka property and the variable it came from (for error messages).
struct Property {
  std::string name;
  std::string value;
  std::string variable;
  bool secret = false;
};

/// Effective, typed settings. Defaults here match the registry.
struct Settings {
  std::string kernel_name;
  std::string bootstrap_servers;       ///< empty only before validation
  bool embedded = false;               ///< KAFKA_BOOTSTRAP_SERVERS=embedded (or --dev, --samples)
  std::vector<std::string> input_topics;   ///< prefix applied
  std::optional<std::string> output_topic; ///< prefix applied
  std::string dlq_topic;                   ///< prefix applied
  std::string topic_prefix;
  bool allow_output_to_input = false;      ///< KERNEL_ALLOW_OUTPUT_TO_INPUT
  std::string group_id;
  std::string client_id;

  // TLS and SASL, decoded PEM text held in memory only.
  std::string ca_cert_pem, client_cert_pem, client_key_pem, client_key_password;
  std::string sasl_mechanism, sasl_username, sasl_password;
  std::string security_protocol = "PLAINTEXT";

  bool idempotence = true;
  std::string acks = "all";
  int max_attempts = 3;
  std::chrono::milliseconds linger{10};
  std::string compression = "snappy";

  std::string start_offset = "earliest";
  long long fetch_min_bytes = 1;
  long long fetch_max_bytes = 10'000'000;
  std::chrono::milliseconds fetch_max_wait{500};
  std::chrono::milliseconds commit_interval{1000};
  std::chrono::milliseconds heartbeat_interval{3000};
  std::chrono::milliseconds session_timeout{10000};
  std::chrono::milliseconds rebalance_timeout{60000};
  int max_retries = 3;
  std::string instance_id;
  int max_poll_records = 500;

  std::string log_level = "info";
  std::string log_format = "text";
  std::chrono::milliseconds shutdown_timeout{25000};
  std::chrono::milliseconds startup_timeout{30000};
  std::chrono::milliseconds retry_backoff{200};
  std::chrono::milliseconds retry_backoff_max{30000};
  double retry_multiplier = 2.0;
  double retry_jitter = 0.2;

  std::optional<int> http_port = 8080;  ///< nullopt: off; 0: pick a free port (ops)
  std::string http_address = "0.0.0.0";  ///< IPv4 or IPv6 address the endpoints listen on (ops)
  std::string admin_token;              ///< empty: admin endpoints off (ops)

  /// KAFKA_PROPERTY_* pass-through, with the client(s) each applies to.
  struct Passthrough {
    std::string property, value, variable;
    bool consumer = true, producer = true;
  };
  std::vector<Passthrough> passthrough;
};

class Config {
 public:
  /// Reads and validates. Throws ConfigError listing every problem.
  static Config load(const KernelDefaults& defaults, const Environment& environment,
                     RunMode mode = RunMode::production,
                     const std::filesystem::path& dotenv = ".env");
  /// Settings given directly (tests, tools); validated the same way.
  static Config from_settings(Settings settings);

  const Settings& settings() const noexcept { return settings_; }
  /// Points the kernel at another broker (the embedded one) and throwaway state.
  void use_bootstrap_servers(std::string servers);
  void set_group_id(std::string group);

  /// Properties for the consumer and the producer handle, in the order to set them.
  std::vector<Property> consumer_properties() const;
  std::vector<Property> producer_properties() const;

  /// Warnings found while loading (unknown variables, notices); log them at start.
  const std::vector<std::string>& warnings() const noexcept { return warnings_; }
  /// --print-config: every setting with its source, then the librdkafka properties;
  /// secrets as ***.
  std::string describe() const;

  /// Where a variable's effective value came from: default, env, .env, code, derived,
  /// --dev or --samples. Empty for names the configuration does not know.
  std::string source_of(std::string_view variable) const;
  /// mask_secrets() plus every secret value this configuration holds, wherever it appears
  /// (for text that may echo a secret without its property name).
  std::string redact(std::string_view text) const;

 private:
  // Checks every Settings gets (load and from_settings alike) and builds the Config.
  static Config validate(config_detail::Loaded loaded, config_detail::Problems& problems);

  Settings settings_;
  std::map<std::string, std::string, std::less<>> sources_;  // variable -> default|env|.env|code
  std::vector<std::string> warnings_;
  std::shared_ptr<void> keep_alive_;  // in-memory files backing certificate properties
  std::string certificate_location_;  // /proc/self/fd/N of the client certificate chain
};

/// Kafka's topic name rules ([a-zA-Z0-9._-], 1 to 249 characters, not `.` or `..`): what is
/// wrong with `topic` ("is longer than 249 characters"), or empty when it is a valid name.
std::string topic_name_problem(std::string_view topic);

/// Replaces secret values in a line of text (librdkafka's log and conf dumps) with ***.
std::string mask_secrets(std::string_view text);

}  // namespace kernel
