#pragma once
/// Kernel configuration: read from the environment (a `.env` file fills what it leaves
/// unset), validated all at once before anything connects, and turned into librdkafka
/// properties. Every variable is declared once in the registry (config_registry()), which
/// drives parsing, validation, --print-config, the docs and the generator's .env.template.
#include <chrono>
#include <filesystem>
#include <functional>
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

/// Settings whose values form a closed set. to_string() gives the text a user writes and
/// librdkafka reads ("SASL_SSL", "all", "snappy", "earliest", "info", "json").
enum class SecurityProtocol { plaintext, ssl, sasl_plaintext, sasl_ssl };
enum class SaslMechanism { plain, scram_sha_256, scram_sha_512 };
/// `none` (0) exists only to be refused by name: at-least-once needs acknowledgements.
enum class Acks { all, leader, none };
enum class Compression { none, gzip, snappy, lz4, zstd };
enum class StartOffset { earliest, latest };
enum class LogLevel { trace, debug, info, warn, error };
enum class LogFormat { text, json };
std::string_view to_string(SecurityProtocol value);
std::string_view to_string(SaslMechanism value);
std::string_view to_string(Acks value);
std::string_view to_string(Compression value);
std::string_view to_string(StartOffset value);
std::string_view to_string(LogLevel value);
std::string_view to_string(LogFormat value);

struct Settings;

/// A default that the kernel's code gives rather than the registry (see KernelDefaults).
enum class FromKernel { nothing, input_topics, output_topic, dead_letter_topic, consumer_group, client_id };

/// One variable, declared once in the registry: its names, how its text is read into
/// Settings and written back, its default and its documentation. Loading, validation,
/// --print-config, docs/configuration.md and the generator's .env.template are loops over
/// these rows. A row's functions are closures, so a variable a kernel declares can be a row
/// too, storing its value wherever the kernel keeps it.
struct VariableSpec {
  std::string name;
  std::vector<std::string> aliases;
  std::string type;  ///< string, list, duration, size, bool, int, float, enum, pem, port
  std::string default_value;   ///< as a user would write it; empty when unset by default
  bool secret = false;
  std::string description;
  std::vector<std::string> accepted;  ///< for enums, as a user may write them
  FromKernel from_kernel = FromKernel::nothing;  ///< the kernel's code gives the default

  /// Parses `text` and stores it in `settings`; returns what was expected when `text` is
  /// not a value of this variable (`expected a duration with a unit, e.g. 500ms`), else "".
  std::function<std::string(std::string_view text, Settings& settings)> read;
  /// The stored value as a user would write it (what --print-config shows).
  std::function<std::string(const Settings& settings)> show;
  /// What is wrong with the stored value on its own (`expected a duration above 0`), else "".
  /// Relations between variables are checked by the configuration, not here.
  std::function<std::string(const Settings& settings)> check;
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

/// Effective, typed settings. A default-constructed Settings holds the registry's defaults
/// (docs/configuration.md), which are written only there.
struct Settings {
  Settings();

  std::string kernel_name;
  std::string bootstrap_servers;       ///< empty only before validation
  bool embedded = false;               ///< KAFKA_BOOTSTRAP_SERVERS=embedded (or --dev, --samples)
  std::vector<std::string> input_topics;   ///< prefix applied
  std::optional<std::string> output_topic; ///< prefix applied
  std::string dlq_topic;                   ///< prefix applied
  std::string error_topic;                 ///< KAFKA_ERROR_TOPIC, prefix applied; empty: unset
  std::string topic_prefix;
  bool allow_output_to_input{};            ///< KERNEL_ALLOW_OUTPUT_TO_INPUT
  std::string group_id;
  std::string client_id;

  // TLS and SASL, decoded PEM text held in memory only.
  std::string ca_cert_pem, client_cert_pem, client_key_pem, client_key_password;
  std::optional<SaslMechanism> sasl_mechanism;  ///< nullopt: no SASL asked for
  std::string sasl_username, sasl_password;
  SecurityProtocol security_protocol{};  ///< derived from the above unless given

  bool idempotence{};
  Acks acks{};
  int max_attempts{};
  std::chrono::milliseconds linger{};
  Compression compression{};

  StartOffset start_offset{};
  long long fetch_min_bytes{};
  long long fetch_max_bytes{};
  std::chrono::milliseconds fetch_max_wait{};
  std::chrono::milliseconds commit_interval{};
  std::chrono::milliseconds heartbeat_interval{};
  std::chrono::milliseconds session_timeout{};
  std::chrono::milliseconds rebalance_timeout{};
  int max_retries{};
  std::string instance_id;
  int max_poll_records{};

  LogLevel log_level{};
  LogFormat log_format{};
  std::chrono::milliseconds shutdown_timeout{};
  std::chrono::milliseconds startup_timeout{};
  std::chrono::milliseconds retry_backoff{};
  std::chrono::milliseconds retry_backoff_max{};
  double retry_multiplier{};
  double retry_jitter{};
  int breaker_threshold{};                                ///< 0: breaker off
  std::chrono::milliseconds breaker_cooldown{};
  std::chrono::milliseconds breaker_cooldown_max{};
  std::optional<std::chrono::milliseconds> handler_timeout;  ///< nullopt: no deadline

  std::optional<int> http_port;  ///< nullopt: off; 0: pick a free port (ops)
  std::string http_address;      ///< IPv4 or IPv6 address the endpoints listen on (ops)
  std::string admin_token;       ///< empty: admin endpoints off (ops)

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
