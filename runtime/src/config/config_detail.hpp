#pragma once
// Internal pieces of the configuration module, shared between its files. Nothing outside
// runtime/src/config/ includes this. The first three sections (values.cpp, codecs.cpp,
// registry.cpp) are the kernel_config library, which new-kernel links too; the rest needs
// librdkafka and OpenSSL.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "config/handler_choice.hpp"
#include "config/parsed.hpp"
#include "config/pipeline_naming.hpp"
#include "config/registry.hpp"
#include "config/settings.hpp"
#include "config/transactional_id.hpp"

namespace kernel::config_detail {

/// Where a setting's value came from, as --print-config shows it.
namespace source {
inline constexpr std::string_view default_value = "default";
inline constexpr std::string_view env = "env";
inline constexpr std::string_view dotenv = ".env";
inline constexpr std::string_view code = "code";
inline constexpr std::string_view derived = "derived";
}  // namespace source

// ---- values.cpp: text <-> typed values ----------------------------------------------------

/// Each parser returns the value, or what would be accepted.
Parsed<std::chrono::milliseconds> parse_duration(std::string_view text);
Parsed<long long> parse_size(std::string_view text);
Parsed<bool> parse_bool(std::string_view text);
Parsed<long long> parse_integer(std::string_view text);
Parsed<double> parse_number(std::string_view text);
/// Raw PEM, base64 of PEM, or PEM with literal `\n`; nullopt when it is none of these.
std::optional<std::string> decode_pem(std::string_view text);
/// What is wrong with one KAFKA_BOOTSTRAP_SERVERS entry ([proto://]host[:port]), or "".
std::string broker_problem(std::string_view broker);

std::string format_duration(std::chrono::milliseconds value);
std::string format_size(long long bytes);
std::string format_number(double value);
std::string trim(std::string_view text);
std::vector<std::string> split_list(std::string_view text);
std::string join(const std::vector<std::string>& items, std::string_view separator);
/// `text` in a Markdown table cell: `|` escaped, `<` and `>` as entities.
std::string markdown_cell(std::string_view text);
std::string upper(std::string_view text);
/// Levenshtein distance: insertions, deletions and substitutions that turn `a` into `b`.
std::size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate nearest to `name` (edit distance), for "did you mean" suggestions.
std::string closest(std::string_view name, const std::vector<std::string>& candidates);

// ---- codecs.cpp: the types of values ------------------------------------------------------

namespace codec {

/// How one type of value is read from the text a user writes, written back and checked.
template <typename T>
struct Codec {
  std::string type;  ///< as docs/configuration.md names it
  /// The value `text` spells, or what would be accepted.
  std::function<Parsed<T>(std::string_view text)> parse;
  std::function<std::string(const T& value)> format;
  std::vector<std::string> accepted = {};
  /// What is wrong with a value on its own, or ""; `example` is the variable's default.
  std::function<std::string(const T& value, std::string_view example)> check = {};
};

/// Text, trimmed; `type` names it in the docs ("string", "list").
Codec<std::string> text(std::string type = "string");
/// Passwords and tokens are kept exactly as given: a space may be part of one.
Codec<std::string> verbatim();
/// PEM, base64 of PEM or PEM with literal \n; `what` ("certificate") names it in errors.
Codec<std::string> pem(std::string what);
/// Comma-separated topic names, none empty; repeats are dropped.
Codec<std::vector<std::string>> topic_list();
Codec<bool> boolean();
/// A whole number of at least `minimum`; `meaning` says what it counts, in the error.
Codec<int> whole_number(long long minimum, std::string meaning);
enum class Zero { allowed, refused };
Codec<std::chrono::milliseconds> duration(Zero zero = Zero::allowed);
/// Comma-separated durations, each above 0 and none shorter than the one before (retry-topic delays).
Codec<std::vector<std::chrono::milliseconds>> rising_durations();
/// KERNEL_DEDUP_WINDOW: `COUNT,AGE`, `COUNT` or `AGE` (a bare whole number is the count); the
/// part left out is the one `fallback` (the registry's default, in the same form) gives.
Codec<DedupWindow> dedup_window(std::string_view fallback);
Codec<long long> size(Zero zero = Zero::allowed);
Codec<double> number(std::function<std::string(double, std::string_view)> check);
/// A port, 0 for a free one, or off (nullopt).
Codec<std::optional<int>> port();
/// A literal IP address: the server binds exactly what it is given, and a host name could
/// resolve to several addresses, or to none at the next start.
Codec<std::string> ip_address();
/// One of an enum's values, written in any case; `note` follows the list in the error.
template <typename E>
Codec<E> choice(std::string note = {});

/// The same type, with "" (unset) as a value of its own; a value that is set is checked as
/// the type checks it (a setting that is off by default is not a way around its range).
template <typename T>
Codec<std::optional<T>> optional_of(Codec<T> codec) {
  return {codec.type,
          [parse = codec.parse](std::string_view text) -> Parsed<std::optional<T>> {
            auto value = parse(text);
            if (!value) return parse_error(std::move(value).error());
            return std::optional<T>(std::move(*value));
          },
          [format = codec.format](const std::optional<T>& value) { return value ? format(*value) : std::string(); },
          codec.accepted,
          [check = codec.check](const std::optional<T>& value, std::string_view example) {
            if (!value || !check) return std::string();
            auto why = check(*value, example);
            return why.empty() ? why : why + ", or unset";
          }};
}

/// The codec with `check` as the constraint on a value.
template <typename T>
Codec<T> checked(Codec<T> codec, std::type_identity_t<std::function<std::string(const T&, std::string_view)>> check) {
  codec.check = std::move(check);
  return codec;
}

}  // namespace codec

// ---- registry.cpp: the table --------------------------------------------------------------

/// The registry row for a canonical name or one of its aliases; nullptr if unknown.
const VariableSpec* find_variable(std::string_view name);
bool is_secret_variable(std::string_view name);
/// Every canonical name and alias, for suggestions.
std::vector<std::string> known_variable_names();
/// The registry's rows followed by the kernel's own (its settings and named outputs).
std::vector<VariableSpec> all_variables(const Settings& settings);

// ---- validate.cpp: problems and the checks every Settings gets ----------------------------

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
  /// A variable beyond the registry (a kernel's secret setting) whose value is never shown.
  void hide_value_of(std::string variable) { hidden_.insert(std::move(variable)); }
  bool empty() const noexcept { return lines_.empty(); }
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  std::vector<std::string> lines_;
  std::set<std::string, std::less<>> variables_;
  std::set<std::string, std::less<>> hidden_;
};

/// A value made printable on one line, to be shown between quotes (core/printable_text.hpp),
/// cut after 120 characters.
std::string printable_value(std::string_view value);

using Values = std::map<std::string, std::string, std::less<>>;  // variable -> text

/// Every registry variable's effective value as a user would write it, plus the
/// KAFKA_PROPERTY_* ones (secrets included: callers mask them).
Values effective_values(const Settings& settings);

/// Each variable's own constraints (the registry's check), then the relations between
/// settings (acks and idempotence, timeouts, backoff, topics, TLS and SASL combinations, what a
/// batch kernel allows).
/// `shown` gives the values to quote in messages.
void validate_settings(const Settings& settings, const Values& shown, Problems& problems,
                       std::vector<std::string>& warnings);

/// The kernel's choice of handlers (Settings::handler_choice), when the kernel gave it. Runs
/// after librdkafka's check, which tries a client only on an otherwise clean configuration.
void check_handler_choice(const Settings& settings, Problems& problems);

// ---- load.cpp: the environment, .env and reading each variable ---------------------------

/// What reading the environment produced, before the checks every Settings gets.
struct Loaded {
  Settings settings;
  Values sources;  // canonical name -> source
  Values shown;    // name -> value as written
  std::vector<std::string> warnings;
};

/// One variable as the user set it.
struct RawValue {
  std::string name_used;  ///< the canonical name or the alias that was set
  std::string text;
  std::string source;  ///< env or .env
};

// ---- pipeline_naming.cpp ------------------------------------------------------------------

/// KERNEL_PIPELINE/KERNEL_STEP/KERNEL_TOPIC_PATTERN: checks them, replaces ${...} variables in
/// the topic settings, and fills the topics and group the environment (`given`) left unset by
/// the convention. Runs before the topic prefix is applied.
void apply_pipeline_naming(Loaded& loaded, const std::map<std::string, RawValue, std::less<>>& given,
                           Problems& problems);
/// `${name}` variables of topic patterns and topic settings replaced by `values`; or why not: an
/// unknown variable, an unclosed `${` or a variable without a value.
Parsed<std::string> substitute_topic_variables(std::string_view text,
                                               const std::map<std::string, std::string, std::less<>>& values);

// ---- rdkafka_properties.cpp: Settings -> librdkafka, KAFKA_PROPERTY_*, librdkafka's check --

/// `loop_producer` is the kernel loop's own producer: the producer's properties and, under
/// exactly_once, transactional.id, which no other producer sharing the configuration may use.
enum class Client { consumer, producer, loop_producer };
/// Is `property` the mapping's property, by its name or one of librdkafka's aliases?
bool names_property(const RdkafkaProperty& mapping, std::string_view property);
/// What librdkafka's own table (rd_kafka_conf_properties_show) says of a property.
struct PropertyScope {
  bool consumer = false;
  bool producer = false;
  /// The numeric range librdkafka accepts (`1 .. 2147483647` in its table), if it has one.
  std::optional<std::pair<long long, long long>> range;
  /// The property this name is librdkafka's alias for, or "".
  std::string alias_of;
};
/// From librdkafka's table, read once; nullopt for a name it does not know.
std::optional<PropertyScope> property_scope(std::string_view property);
/// One property under two names (linger.ms and its alias queue.buffering.max.ms)?
bool same_property(std::string_view a, std::string_view b);
/// The librdkafka properties for one client, in the order to set them. `certificate_location`
/// is the in-memory file holding the client certificate chain (empty when none).
std::vector<Property> build_properties(const Settings& settings, Client client,
                                       const std::string& certificate_location);
/// KAFKA_PROPERTY_LOG__LEVEL -> log_level; nullopt if the name is not of that form.
std::optional<std::string> passthrough_property_name(std::string_view variable);
/// Turns the KAFKA_PROPERTY_* entries into Settings::Passthrough, reporting unknown and
/// forbidden ones.
std::vector<Settings::Passthrough> read_passthrough(const std::map<std::string, RawValue, std::less<>>& variables,
                                                    Problems& problems);
/// Sets every property on a real rd_kafka_conf_t and, when that passes, creates (and at once
/// destroys) a client from it, reporting refusals in our variables' names.
void check_with_librdkafka(const std::vector<Property>& consumer, const std::vector<Property>& producer,
                           const Values& shown, Problems& problems);

// ---- tls.cpp ------------------------------------------------------------------------------

/// Parses certificates and key with OpenSSL: readable, key decrypts, key matches cert.
void check_tls_material(const Settings& settings, Problems& problems, std::vector<std::string>& warnings);
/// "subject CN=x, sha256 AB:CD:..." for each certificate in a PEM bundle.
std::string describe_certificates(std::string_view pem);
/// An in-memory file (memfd): `owner` closes it, `path` is /proc/self/fd/N. On failure
/// `owner` is empty, `error` the system's code and `failed_step` what failed.
struct MemoryFile {
  std::shared_ptr<void> owner;
  std::string path;
  std::error_code error;
  std::string_view failed_step;
};
/// An in-memory file holding `content`.
MemoryFile make_memory_file(std::string_view content);

// ---- describe.cpp: --print-config and secret masking --------------------------------------

/// Properties whose values are secret (passwords, keys, tokens) or too long to show.
bool is_secret_property(std::string_view property);
/// A variable whose value must not be printed: a registry secret, or a KAFKA_PROPERTY_*
/// that sets a secret property.
bool is_secret_name(std::string_view variable);
/// Every secret value `settings` holds worth masking (4 characters or more, trimmed).
std::vector<std::string> secret_values(const Settings& settings);
/// Replaces each of `secrets` with ***, wherever it appears in `text`.
std::string replace_values(std::string text, const std::vector<std::string>& secrets);
/// Replaces every secret value `settings` holds, wherever it appears in `text`.
std::string replace_secret_values(std::string text, const Settings& settings);

}  // namespace kernel::config_detail
