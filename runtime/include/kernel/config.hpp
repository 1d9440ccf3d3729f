#pragma once
/// Kernel configuration: read from the environment (a `.env` file fills what it leaves
/// unset), validated all at once before anything connects, and turned into librdkafka
/// properties. What a kernel and a tool need: load, describe, redact, a kernel's own settings
/// (KernelValues); every variable is declared once in the runtime's registry
/// (docs/configuration.md), and Settings' fields are the runtime's own.
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

#include "kernel/env_vars.hpp"
#include "kernel/kernel_settings.hpp"

namespace kernel {

namespace config_detail {
struct Loaded;
class Problems;
}  // namespace config_detail

using Environment = std::map<std::string, std::string, std::less<>>;

/// The process environment as a map.
Environment process_environment();

/// What the kernel's code chose to run (KernelSpec::handler, ::batch_handler, ::middleware):
/// exactly one handler, and no consumer middleware around a batch_handler (a batch call has no
/// single message to wrap). Checked with the settings, every problem at once.
struct HandlerChoice {
  bool handler = false;
  bool batch_handler = false;
  bool consumer_middleware = false;  ///< besides metrics(), which counts batches too
};

/// What the kernel's code fixes: its name, default topics, own settings and named outputs.
struct KernelDefaults {
  std::string name;
  std::vector<std::string> input_topics;
  std::optional<std::string> output_topic;
  std::vector<KernelSetting> settings = {};  ///< read from <KERNEL_NAME>_<SETTING>
  std::vector<KernelOutput> outputs = {};    ///< overridable by KAFKA_OUTPUT_TOPIC_<NAME>
  /// Other settings the kernel's code gives, by variable name, written as in the environment
  /// (`{"KERNEL_RETRY_BACKOFF", "1s"}`); the environment and .env override them.
  std::map<std::string, std::string, std::less<>> code_values = {};
  /// The kernel runs a batch_handler: its settings are checked for batches (docs/batches.md).
  bool batch_handler = false;
  /// False for a service that only produces (kernel::Producer): no input topic is required.
  bool consumes = true;
  /// The handlers the kernel's code set (run() fills it); unset for a configuration a tool or a
  /// test loads, which is then not checked for one.
  std::optional<HandlerChoice> handler_choice = {};
};

/// Where the brokers come from. production: KAFKA_BOOTSTRAP_SERVERS is required; dev: unset
/// means the embedded broker; samples: always the embedded broker; tool (kernel-admin):
/// required, and never `embedded`, since a tool looks at the brokers the kernels use.
enum class RunMode { production, dev, samples, tool };

/// One or more configuration problems, one line each
/// (`config error: VAR="value": expected ...`). Exit code 78.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  std::vector<std::string> problems_;
};

/// Every effective, typed setting (runtime/src/config/settings.hpp): the runtime's, its tools'
/// and its tests' business. A kernel reads its own settings through KernelValues.
struct Settings;

/// A librdkafka property and the variable it came from (for error messages).
struct Property {
  std::string name;
  std::string value;
  std::string variable;
  bool secret = false;
  /// Follows from `variable` rather than being what it sets (batch.num.messages from
  /// KAFKA_MAX_POLL_RECORDS): a KAFKA_PROPERTY_* for the same property simply replaces it.
  bool derived = false;
};

/// The variable a kernel's setting is read from: the kernel's name upper-cased with dashes as
/// underscores, `_`, the setting's name (ORDER_ROUTER_BATCH_SIZE).
std::string setting_variable(std::string_view kernel_name, std::string_view setting);
/// The variable that overrides a named output's topic (KAFKA_OUTPUT_TOPIC_INTERNATIONAL).
std::string output_variable(std::string_view output);
/// What is wrong with a kernel's declarations, one line each: a name starting kafka- or
/// kernel-, setting or output names that are malformed or repeated, defaults that are not
/// values of their type, enumerations without choices. Empty when nothing is.
std::vector<std::string> declaration_problems(const KernelDefaults& kernel);
/// `--print-config --format`: the kernel binary's whole configuration reference.
enum class ReferenceFormat { env, markdown, json };
/// Every variable the kernel reads, with this kernel's defaults: the runtime's, then the
/// kernel's own settings and named outputs. Needs no environment.
std::string configuration_reference(const KernelDefaults& kernel, ReferenceFormat format);

/// Only the kernel's own settings and named outputs, read from `environment` and `dotenv` by
/// the same rules as Config::load (for main(), before run()). Throws ConfigError listing every
/// problem.
KernelValues load_kernel_values(const KernelDefaults& kernel, const Environment& environment,
                                const std::filesystem::path& dotenv = ".env");

class Config {
 public:
  /// The registry's defaults, not validated.
  Config();
  Config(const Config& other);
  Config(Config&& other) noexcept;
  Config& operator=(const Config& other);
  Config& operator=(Config&& other) noexcept;
  ~Config();

  /// Reads and validates. Throws ConfigError listing every problem.
  static Config load(const KernelDefaults& defaults, const Environment& environment, RunMode mode = RunMode::production,
                     const std::filesystem::path& dotenv = ".env");
  /// Settings given directly (tests, tools); validated the same way.
  static Config from_settings(Settings settings);

  const Settings& settings() const noexcept { return *settings_; }
  /// Points the kernel at another broker (the embedded one) and throwaway state.
  void use_bootstrap_servers(std::string servers);
  void set_group_id(std::string group);

  /// Properties for the consumer and the producer handle, in the order to set them.
  std::vector<Property> consumer_properties() const;
  std::vector<Property> producer_properties() const;
  /// The kernel loop's own producer: producer_properties() and, under exactly_once,
  /// transactional.id (checked with the rest at load). Tools sharing the configuration use
  /// producer_properties(): registering the id would fence the running kernel.
  std::vector<Property> loop_producer_properties() const;

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
  /// Every secret value this configuration holds (the runtime's secret variables, a secret
  /// KAFKA_PROPERTY_*, the kernel's own secret settings) replaced by *** wherever it appears in
  /// `text`: what a handler's exception or a log line may quote. Values shorter than 4
  /// characters are left, as they would mask ordinary words.
  std::string redact_secret_values(std::string_view text) const;
  /// redact_secret_values() as a function that may outlive this Config (a logger's); empty
  /// when there is no secret value to hide.
  std::function<std::string(std::string_view)> secret_value_redactor() const;

 private:
  // Checks every Settings gets (load and from_settings alike) and builds the Config.
  static Config validate(config_detail::Loaded loaded, config_detail::Problems& problems);

  // Behind a pointer so that this header only declares Settings; copies are deep (every
  // special member is in config_value.cpp). Null only in a moved-from Config.
  std::unique_ptr<Settings> settings_;
  std::map<std::string, std::string, std::less<>> sources_;  // variable -> default|env|.env|code
  std::vector<std::string> warnings_;
  std::shared_ptr<void> keep_alive_;                               // in-memory files backing certificate properties
  std::shared_ptr<const std::vector<std::string>> secret_values_;  // redact_secret_values()'s, found once
  std::string certificate_location_;                               // /proc/self/fd/N of the client certificate chain
};

/// Kafka's topic name rules ([a-zA-Z0-9._-], 1 to 249 characters, not `.` or `..`): what is
/// wrong with `topic`, worded to follow the name ("contains a space: use letters, digits, '.',
/// '_' and '-'"), or empty when it is a valid name.
std::string topic_name_problem(std::string_view topic);

/// How a problem names one character: `'/'`, `a space`, `control character 0x0a`, `a
/// non-ASCII character`.
std::string character_name(char c);

/// Replaces secret values in a line of text (librdkafka's log and conf dumps) with ***.
std::string mask_secrets(std::string_view text);

}  // namespace kernel
