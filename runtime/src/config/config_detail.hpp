#pragma once
// Internal pieces of the configuration module, shared between its files. Nothing outside
// runtime/src/config/ includes this.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/config.hpp"

namespace kernel::config_detail {

/// Where a setting's value came from, as --print-config shows it.
namespace source {
inline constexpr std::string_view default_value = "default";
inline constexpr std::string_view env = "env";
inline constexpr std::string_view dotenv = ".env";
inline constexpr std::string_view code = "code";
}  // namespace source

// ---- registry.cpp -------------------------------------------------------------------------

/// The registry row for a canonical name or one of its aliases; nullptr if unknown.
const VariableSpec* find_variable(std::string_view name);
bool is_secret_variable(std::string_view name);
/// Every canonical name and alias, for suggestions.
std::vector<std::string> known_variable_names();

// ---- problems.cpp -------------------------------------------------------------------------

/// Collects configuration problems, one line each, all reported at once (docs/configuration.md).
class Problems {
 public:
  /// `config error: VAR="value": message`, or `config error: VAR: message (value hidden)`
  /// for secrets; PEM values are never echoed either (they span lines).
  void add(std::string_view variable, std::string_view value, std::string_view message);
  /// `config error: VAR: message` (no value to show, e.g. a missing variable).
  void add_without_value(std::string_view variable, std::string_view message);
  /// `config error: message` for problems no single variable owns.
  void add_general(std::string_view message);

  bool mentions(std::string_view variable) const { return variables_.contains(std::string(variable)); }
  bool empty() const noexcept { return lines_.empty(); }
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  std::vector<std::string> lines_;
  std::set<std::string, std::less<>> variables_;
};

/// A value made printable on one line: control characters escaped, long text shortened.
std::string printable_value(std::string_view value);

// ---- environment.cpp ----------------------------------------------------------------------

/// KEY=VALUE lines, `#` comments, optional `export `, optional single or double quotes.
/// A missing file is an empty map; malformed lines are reported against the file.
Environment read_dotenv(const std::filesystem::path& path, Problems& problems);

/// One variable as the user set it.
struct RawValue {
  std::string name_used;  ///< the canonical name or the alias that was set
  std::string text;
  std::string source;     ///< env or .env
};

/// The environment with the .env file beneath it: the environment wins, a .env entry fills
/// only what it leaves unset, and an empty value counts as unset.
class LayeredEnvironment {
 public:
  LayeredEnvironment(const Environment& environment, Environment dotenv)
      : environment_(environment), dotenv_(std::move(dotenv)) {}
  /// The value of a registry variable under any of its names; names that disagree within
  /// the layer that sets it are a problem.
  std::optional<RawValue> get(const VariableSpec& spec, Problems& problems) const;
  /// Every name set in either layer, with its value and layer.
  std::map<std::string, RawValue, std::less<>> all() const;

 private:
  const Environment& environment_;
  Environment dotenv_;
};

// ---- values.cpp ---------------------------------------------------------------------------

/// Each parser returns nullopt and sets `error` to what would be accepted.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error);
std::optional<long long> parse_size(std::string_view text, std::string& error);
std::optional<bool> parse_bool(std::string_view text, std::string& error);
std::optional<long long> parse_integer(std::string_view text, std::string& error);
std::optional<double> parse_number(std::string_view text, std::string& error);

std::string format_duration(std::chrono::milliseconds value);
std::string format_size(long long bytes);
std::string format_number(double value);
std::string trim(std::string_view text);
std::vector<std::string> split_list(std::string_view text);
std::string join(const std::vector<std::string>& items, std::string_view separator);

// ---- loader.cpp ---------------------------------------------------------------------------

/// What reading the environment produced, before the checks every Settings gets.
struct Loaded {
  Settings settings;
  std::map<std::string, std::string, std::less<>> sources;  // canonical name -> source
  std::map<std::string, std::string, std::less<>> shown;    // name -> value as written
  std::vector<std::string> warnings;
};
Loaded read_settings(const KernelDefaults& defaults, const Environment& environment,
                     RunMode mode, const std::filesystem::path& dotenv, Problems& problems);

// ---- effective.cpp ------------------------------------------------------------------------

/// Every registry variable's effective value as a user would write it (secrets included:
/// callers mask them).
std::map<std::string, std::string, std::less<>> effective_values(const Settings& settings);

// ---- validation.cpp -----------------------------------------------------------------------

using kernel::topic_name_problem;
/// Checks that hold between settings (acks and idempotence, timeouts, backoff, topics, TLS
/// and SASL combinations). `shown` gives the values to quote in messages.
void validate_settings(const Settings& settings,
                       const std::map<std::string, std::string, std::less<>>& shown,
                       Problems& problems, std::vector<std::string>& warnings);

// ---- property_scope.cpp -------------------------------------------------------------------

struct PropertyScope {
  bool consumer = false;
  bool producer = false;
  /// The numeric range librdkafka accepts (`1 .. 2147483647` in its table), if it has one.
  std::optional<std::pair<long long, long long>> range;
};
/// librdkafka's own table (rd_kafka_conf_properties_show), read once: scope by name.
std::optional<PropertyScope> property_scope(std::string_view property);
/// What is wrong with a whole-number `value` for a property with a numeric range ("too large
/// for fetch.max.bytes, which takes 0 to 2147483135"), or empty. librdkafka reads numbers
/// with strtol and keeps 32 bits, so it would take 2^32 + 1 as 1; this check comes first.
/// Values that are not whole numbers are left to librdkafka.
std::string property_range_problem(std::string_view property, std::string_view value, std::string_view unit);
/// The closest known librdkafka property name, for suggestions.
std::string closest_property(std::string_view property);
/// The variable to use instead when a KAFKA_PROPERTY_* sets a property the runtime owns.
std::optional<std::string> owning_variable(std::string_view property);
/// KAFKA_PROPERTY_LOG__LEVEL -> log_level; nullopt if the name is not of that form.
std::optional<std::string> passthrough_property_name(std::string_view variable);
/// Turns the KAFKA_PROPERTY_* entries into Settings::Passthrough, reporting unknown and
/// forbidden ones.
std::vector<Settings::Passthrough> read_passthrough(
    const std::map<std::string, RawValue, std::less<>>& variables, Problems& problems);

// ---- properties.cpp -----------------------------------------------------------------------

enum class Client { consumer, producer };
/// The librdkafka properties for one client, in the order to set them. `certificate_location`
/// is the in-memory file holding the client certificate chain (empty when none).
std::vector<Property> build_properties(const Settings& settings, Client client,
                                       const std::string& certificate_location);

// ---- rdkafka_check.cpp --------------------------------------------------------------------

/// Sets every property on a real rd_kafka_conf_t and, when that passes, creates (and at once
/// destroys) a client from it, reporting refusals in our variables' names.
void check_with_librdkafka(const std::vector<Property>& consumer,
                           const std::vector<Property>& producer,
                           const std::map<std::string, std::string, std::less<>>& shown,
                           Problems& problems);

// ---- tls.cpp ------------------------------------------------------------------------------

/// Raw PEM, base64 of PEM, or PEM with literal `\n`; nullopt when it is none of these.
std::optional<std::string> decode_pem(std::string_view text);
/// Parses certificates and key with OpenSSL: readable, key decrypts, key matches cert.
void check_tls_material(const Settings& settings, Problems& problems,
                        std::vector<std::string>& warnings);
/// "subject CN=x, sha256 AB:CD:..." for each certificate in a PEM bundle.
std::string describe_certificates(std::string_view pem);
/// An in-memory file (memfd) holding `content`; `path` receives /proc/self/fd/N. The
/// returned handle closes it.
std::shared_ptr<void> make_memory_file(std::string_view content, std::string& path,
                                       std::string& error);

// ---- masking.cpp --------------------------------------------------------------------------

/// Properties whose values are secret (passwords, keys, tokens) or too long to show.
bool is_secret_property(std::string_view property);
/// A variable whose value must not be printed: a registry secret, or a KAFKA_PROPERTY_*
/// that sets a secret property.
bool is_secret_name(std::string_view variable);

// ---- suggestions.cpp ----------------------------------------------------------------------

std::size_t edit_distance(std::string_view a, std::string_view b);
std::string closest(std::string_view name, const std::vector<std::string>& candidates);
/// Warnings for KAFKA_* and KERNEL_* names the registry does not know.
void warn_unknown_variables(const std::map<std::string, RawValue, std::less<>>& variables,
                            std::vector<std::string>& warnings);

}  // namespace kernel::config_detail
