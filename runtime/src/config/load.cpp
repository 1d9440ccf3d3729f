// Loading: the process environment with a .env file beneath it, each registry variable read
// into Settings under any of its names, the kernel's own defaults and the run mode applied,
// KAFKA_PROPERTY_* collected, unknown names warned about; then Config, which validates.
#include <algorithm>
#include <fstream>
#include <regex>

#include <unistd.h>  // environ

#include "config/loaded.hpp"
#include "config/rdkafka_properties.hpp"
#include "config/registry_lookup.hpp"
#include "config/secrets.hpp"
#include "config/tls.hpp"
#include "config/validate.hpp"
#include "config/values.hpp"

namespace kernel {

using namespace config_detail;

Environment process_environment() {
  Environment environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto eq = text.find('=');
    if (eq != std::string_view::npos) {
      environment.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
    }
  }
  return environment;
}

namespace {

bool is_variable_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// A quoted value runs to its closing quote; inside double quotes \n, \" and \\ are
// escapes (so a PEM can sit on one line). An unquoted value ends at a ` #` comment.
std::optional<std::string> dotenv_value(std::string_view text) {
  if (!text.empty() && (text[0] == '"' || text[0] == '\'')) {
    const char quote = text[0];
    std::string value;
    for (std::size_t i = 1; i < text.size(); ++i) {
      const char c = text[i];
      if (c == quote) {
        const auto rest = trim(text.substr(i + 1));
        if (!rest.empty() && rest[0] != '#') return std::nullopt;
        return value;
      }
      if (quote == '"' && c == '\\' && i + 1 < text.size()) {
        const char next = text[++i];
        value += next == 'n' ? '\n' : next;
        continue;
      }
      value += c;
    }
    return std::nullopt;  // no closing quote
  }
  auto comment = text.find(" #");
  return trim(text.substr(0, comment));
}

/// KEY=VALUE lines, `#` comments, optional `export `, optional single or double quotes.
/// A missing file is an empty map; malformed lines are reported against the file.
Environment read_dotenv(const std::filesystem::path& path, Problems& problems) {
  Environment values;
  std::ifstream file(path);
  if (!file) return values;  // a .env file is optional
  std::string line;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    auto text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    if (text.starts_with("export ")) text = trim(std::string_view(text).substr(7));
    const auto eq = text.find('=');
    const auto name = eq == std::string::npos ? text : trim(std::string_view(text).substr(0, eq));
    auto value = eq == std::string::npos ? std::nullopt : dotenv_value(trim(std::string_view(text).substr(eq + 1)));
    if (eq == std::string::npos || !is_variable_name(name) || !value) {
      // The line is not echoed: it may hold a secret.
      problems.add_general(path.filename().string() + " line " + std::to_string(number) +
                           ": expected NAME=value, NAME=\"value\" or a # comment");
      continue;
    }
    values.insert_or_assign(name, std::move(*value));
  }
  return values;
}

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

std::optional<RawValue> LayeredEnvironment::get(const VariableSpec& spec, Problems& problems) const {
  std::vector<std::string> names{spec.name};
  names.insert(names.end(), spec.aliases.begin(), spec.aliases.end());
  for (const auto* layer : {&environment_, &dotenv_}) {
    std::optional<RawValue> found;
    for (const auto& name : names) {
      const auto it = layer->find(name);
      if (it == layer->end() || it->second.empty()) continue;  // empty counts as unset
      if (!found) {
        found = RawValue{name, it->second, std::string(layer == &environment_ ? source::env : source::dotenv)};
      } else if (found->text != it->second) {
        problems.add(name, it->second,
                     "conflicts with " + found->name_used + "=\"" + printable_value(found->text) +
                         "\"; they name the same setting: set only one, or both alike");
      }
    }
    if (found) return found;
  }
  return std::nullopt;
}

std::map<std::string, RawValue, std::less<>> LayeredEnvironment::all() const {
  std::map<std::string, RawValue, std::less<>> all;
  for (const auto& [name, value] : dotenv_) {
    if (!value.empty()) all[name] = RawValue{name, value, std::string(source::dotenv)};
  }
  for (const auto& [name, value] : environment_) {
    if (!value.empty()) all[name] = RawValue{name, value, std::string(source::env)};
  }
  return all;
}

// Kubernetes injects <SERVICE>_SERVICE_HOST, <SERVICE>_SERVICE_PORT[_NAME], <SERVICE>_PORT
// and <SERVICE>_PORT_<n>_<PROTO>[_...] for every service; a service named kafka or kernel-*
// must not cause warnings.
bool is_kubernetes_service_variable(const std::string& name) {
  static const std::regex kafka_service("^KAFKA_(SERVICE_|PORT).*");
  static const std::regex service(
      "^[A-Z0-9_]+_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT|PORT_[0-9]+_(TCP|UDP|SCTP)(_[A-Z0-9_]+)?)$");
  return std::regex_match(name, kafka_service) || std::regex_match(name, service);
}

/// Warnings for KAFKA_* and KERNEL_* names the registry does not know, and for names that
/// look like one of the kernel's own settings (its prefix, or a close misspelling of one).
void warn_unknown_variables(const std::map<std::string, RawValue, std::less<>>& variables, const Settings& settings,
                            std::vector<std::string>& warnings) {
  auto known = known_variable_names();
  std::vector<std::string> own;
  for (const auto& spec : kernel_variables(settings.kernel_name, settings.kernel_settings, settings.named_outputs)) {
    known.push_back(spec.name);
    if (!spec.name.starts_with("KAFKA_")) own.push_back(spec.name);
  }
  const auto own_prefix = setting_variable(settings.kernel_name, "");
  for (const auto& [name, raw] : variables) {
    if (!own.empty() && std::find(known.begin(), known.end(), name) == known.end()) {
      // Two edits away is a typo, not another program's variable.
      const auto nearest = closest(name, own);
      if (name.starts_with(own_prefix) || edit_distance(name, nearest) <= 2) {
        warnings.push_back("unknown variable " + name + (raw.source == ".env" ? " (in .env)" : "") + ": did you mean " +
                           nearest + "? (a setting of " + settings.kernel_name + ")");
        continue;
      }
    }
    if (!name.starts_with("KAFKA_") && !name.starts_with("KERNEL_")) continue;
    if (name.starts_with("KAFKA_PROPERTY_")) continue;
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    if (is_kubernetes_service_variable(name)) continue;
    warnings.push_back("unknown variable " + name + (raw.source == ".env" ? " (in .env)" : "") + ": did you mean " +
                       closest(name, known) + "?");
  }
}

/// The text the kernel's code gives for a variable whose default is the kernel's own.
std::optional<std::string> kernel_value(FromKernel from, const KernelDefaults& kernel) {
  switch (from) {
    case FromKernel::nothing: return std::nullopt;
    case FromKernel::input_topics: return join(kernel.input_topics, ",");
    case FromKernel::output_topic: return kernel.output_topic;
    case FromKernel::dead_letter_topic: return kernel.name + ".dlq";
    case FromKernel::consumer_group:
    case FromKernel::client_id: return kernel.name;
  }
  return std::nullopt;
}

using Given = std::map<std::string, RawValue, std::less<>>;  // canonical name -> as set

void read_bootstrap(Loaded& loaded, const Given& given, RunMode mode, Problems& problems) {
  auto& s = loaded.settings;
  const auto value = given.find(env_var::KAFKA_BOOTSTRAP_SERVERS);
  const bool set = value != given.end();
  if (mode == RunMode::samples) {
    if (set && s.bootstrap_servers != "embedded") {
      loaded.warnings.push_back("--samples uses the embedded broker; " + value->second.name_used + "=" +
                                s.bootstrap_servers + " is not used");
    }
    s.bootstrap_servers = "embedded";
    loaded.sources[env_var::KAFKA_BOOTSTRAP_SERVERS] = "--samples";
  } else if (!set && mode == RunMode::dev) {
    s.bootstrap_servers = "embedded";
    loaded.sources[env_var::KAFKA_BOOTSTRAP_SERVERS] = "--dev";
  } else if (!set && mode == RunMode::tool) {
    // A tool has neither --dev nor an in-process broker: only the kernels' brokers will do.
    problems.add_without_value(env_var::KAFKA_BOOTSTRAP_SERVERS,
                               "required: the brokers your kernels use, as KAFKA_BOOTSTRAP_SERVERS=HOST:PORT,... in "
                               "the environment or ./.env (for kernel-dev-broker, the line "
                               "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:PORT it printed first)");
  } else if (!set) {
    problems.add_without_value(env_var::KAFKA_BOOTSTRAP_SERVERS,
                               "required: set it to your brokers (host:port,...), or to embedded for the in-process "
                               "development broker, or run with --dev");
  } else if (mode == RunMode::tool && s.bootstrap_servers == "embedded") {
    problems.add(value->second.name_used, s.bootstrap_servers,
                 "a tool needs the brokers your kernels use, not an in-process broker (for kernel-dev-broker, "
                 "the address it printed first)");
  }
  s.embedded = s.bootstrap_servers == "embedded";
}

// Derived unless given: SASL implies SASL_SSL, any certificate or key implies SSL.
void derive_security_protocol(Loaded& loaded, const Given& given) {
  if (given.contains(env_var::KAFKA_SECURITY_PROTOCOL)) return;
  auto& s = loaded.settings;
  if (s.sasl_mechanism || !s.sasl_username.empty() || !s.sasl_password.empty()) {
    s.security_protocol = SecurityProtocol::sasl_ssl;
  } else if (!s.ca_cert_pem.empty() || !s.client_cert_pem.empty() || !s.client_key_pem.empty()) {
    s.security_protocol = SecurityProtocol::ssl;
  }
  loaded.sources[env_var::KAFKA_SECURITY_PROTOCOL] = source::derived;
}

// The prefix is applied exactly once, here; produce() applies it to explicit names.
void apply_topic_prefix(Settings& s) {
  for (auto& topic : s.input_topics) topic = s.topic_prefix + topic;
  if (s.output_topic) s.output_topic = s.topic_prefix + *s.output_topic;
  s.dlq_topic = s.topic_prefix + s.dlq_topic;
  if (s.error_topic) s.error_topic = s.topic_prefix + *s.error_topic;
}

/// The kernel's own settings and named outputs, read like the registry's variables: the
/// declared default, then the layers; a required setting left unset is a problem.
void read_kernel_variables(const KernelDefaults& kernel, Loaded& loaded, const LayeredEnvironment& layers,
                           Problems& problems) {
  auto& s = loaded.settings;
  s.kernel_settings = kernel.settings;
  s.named_outputs = kernel.outputs;
  for (const auto& problem : declaration_problems(kernel)) problems.add_general(problem);
  for (const auto& spec : kernel_variables(kernel.name, kernel.settings, kernel.outputs)) {
    if (spec.secret) problems.hide_value_of(spec.name);
    auto& source = loaded.sources[spec.name];
    source = spec.name.starts_with("KAFKA_") ? source::code : source::default_value;
    if (!spec.required) spec.read(spec.default_value, s);  // a bad default is a declaration problem
    auto value = layers.get(spec, problems);
    if (!value) {
      if (spec.required) {
        problems.add_without_value(spec.name, "required by " + kernel.name + " (" + spec.description +
                                                  "); set it in the environment or in .env");
      }
      continue;
    }
    source = value->source;
    loaded.shown[spec.name] = value->text;
    if (auto error = spec.read(value->text, s); !error.empty()) problems.add(value->name_used, value->text, error);
  }
}

/// Each registry variable read from the layers (or the kernel's code), then what depends
/// on the run mode and on other variables.
Loaded read_settings(const KernelDefaults& kernel, const Environment& environment, RunMode mode,
                     const std::filesystem::path& dotenv, Problems& problems) {
  Loaded loaded;
  auto& s = loaded.settings;
  s.kernel_name = kernel.name;
  s.batch_handler = kernel.batch_handler;
  s.handler_choice = kernel.handler_choice;
  // --samples runs are throwaway: no endpoints unless asked for.
  if (mode == RunMode::samples) s.http_port.reset();

  const LayeredEnvironment layers(environment, read_dotenv(dotenv, problems));
  Given given;
  for (const auto& spec : config_registry()) {
    auto& source = loaded.sources[spec.name];
    source = source::default_value;
    auto text = kernel_value(spec.from_kernel, kernel);
    if (const auto given_in_code = kernel.code_values.find(spec.name); given_in_code != kernel.code_values.end()) {
      text = given_in_code->second;
    }
    if (text) {
      source = source::code;
      if (auto error = text->empty() ? "" : spec.read(*text, s); !error.empty()) {
        problems.add(spec.name, *text, error);
      }
    }
    auto value = layers.get(spec, problems);
    if (!value) continue;
    source = value->source;
    loaded.shown[spec.name] = value->text;
    if (auto error = spec.read(value->text, s); !error.empty()) {
      problems.add(value->name_used, value->text, error);
    }
    given.emplace(spec.name, std::move(*value));
  }

  read_kernel_variables(kernel, loaded, layers, problems);
  read_bootstrap(loaded, given, mode, problems);
  apply_pipeline_naming(loaded, given, problems);
  if (kernel.consumes && s.input_topics.empty() && !problems.mentions(env_var::KAFKA_TOPIC)) {
    problems.add_without_value(env_var::KAFKA_TOPIC, "no input topics: the kernel names none, so set KAFKA_TOPIC");
  }
  apply_topic_prefix(s);
  derive_security_protocol(loaded, given);
  if (given.contains(env_var::KAFKA_PRODUCER_ASYNC)) {
    loaded.warnings.push_back(
        "KAFKA_PRODUCER_ASYNC is accepted for compatibility only: the kernel always produces "
        "asynchronously and commits an input only after its outputs are acknowledged, which "
        "is as durable as synchronous writes");
  }
  // Retry topics replace in-place retries: a retry count given anyway changes nothing.
  if (!s.retry_topics.empty() && loaded.sources[env_var::KAFKA_CONSUMER_MAX_RETRIES] != source::default_value) {
    loaded.warnings.push_back("KAFKA_CONSUMER_MAX_RETRIES is ignored with KERNEL_RETRY_TOPICS: a message gets " +
                              std::to_string(s.retry_topics.size() + 1) +
                              " attempts, one per retry topic after the first");
  }

  const auto variables = layers.all();
  s.passthrough = read_passthrough(variables, problems);
  for (const auto& p : s.passthrough) {
    loaded.sources[p.variable] = variables.at(p.variable).source;
    loaded.shown[p.variable] = p.value;
  }
  warn_unknown_variables(variables, s, loaded.warnings);
  return loaded;
}

// A KAFKA_PROPERTY_* that sets what an explicitly given variable also sets is ambiguous (unless
// the variable sets it only as a consequence: then the KAFKA_PROPERTY_* wins).
void check_passthrough_overlap(const Loaded& loaded, Problems& problems) {
  const auto& s = loaded.settings;
  for (const auto& p : s.passthrough) {
    for (const auto client : {Client::consumer, Client::producer}) {
      Settings without = s;
      without.passthrough.clear();
      for (const auto& property : build_properties(without, client, "")) {
        if (!same_property(property.name, p.property) || property.variable.empty() || property.derived) continue;
        const auto source = loaded.sources.find(property.variable);
        if (source == loaded.sources.end() || (source->second != source::env && source->second != source::dotenv)) {
          continue;
        }
        if (!problems.mentions(p.variable)) {
          problems.add(p.variable, p.value,
                       p.property + " is also set by " + property.variable + "; set only one of them");
        }
      }
    }
  }
}

}  // namespace

Config Config::load(const KernelDefaults& defaults, const Environment& environment, RunMode mode,
                    const std::filesystem::path& dotenv) {
  Problems problems;
  auto loaded = read_settings(defaults, environment, mode, dotenv, problems);
  check_passthrough_overlap(loaded, problems);
  return validate(std::move(loaded), problems);
}

KernelValues load_kernel_values(const KernelDefaults& kernel, const Environment& environment,
                                const std::filesystem::path& dotenv) {
  Problems problems;
  Loaded loaded;
  loaded.settings.kernel_name = kernel.name;
  const LayeredEnvironment layers(environment, read_dotenv(dotenv, problems));
  read_kernel_variables(kernel, loaded, layers, problems);
  if (!problems.empty()) {
    auto lines = problems.take();
    for (auto& line : lines) line = replace_secret_values(std::move(line), loaded.settings);
    throw ConfigError(std::move(lines));
  }
  return std::move(loaded.settings.kernel_values);
}

Config Config::from_settings(Settings settings) {
  Problems problems;
  Loaded loaded;
  loaded.settings = std::move(settings);
  loaded.settings.embedded = loaded.settings.bootstrap_servers == "embedded";
  for (const auto& [name, value] : effective_values(loaded.settings)) {
    loaded.sources[name] = std::string(source::code);
  }
  return validate(std::move(loaded), problems);
}

Config Config::validate(Loaded loaded, Problems& problems) {
  auto shown = effective_values(loaded.settings);
  for (const auto& [name, text] : loaded.shown) shown[name] = text;  // as the user wrote it

  Config config;
  validate_settings(loaded.settings, shown, problems, loaded.warnings);
  check_tls_material(loaded.settings, problems, loaded.warnings);
  if (!loaded.settings.client_cert_pem.empty() && problems.empty()) {
    auto file = make_memory_file(loaded.settings.client_cert_pem);
    if (file.owner) {
      config.keep_alive_ = std::move(file.owner);
      config.certificate_location_ = std::move(file.path);
    } else {
      problems.add(env_var::KAFKA_CLIENT_CERT, "", std::string(file.failed_step) + " failed: " + file.error.message());
    }
  }
  check_with_librdkafka(build_properties(loaded.settings, Client::consumer, config.certificate_location_),
                        build_properties(loaded.settings, Client::loop_producer, config.certificate_location_), shown,
                        problems);
  check_handler_choice(loaded.settings, problems);
  if (!problems.empty()) {
    // A secret pasted into the wrong variable must not be echoed either.
    auto lines = problems.take();
    for (auto& line : lines) line = replace_secret_values(std::move(line), loaded.settings);
    throw ConfigError(std::move(lines));
  }

  for (auto& warning : loaded.warnings) {
    warning = replace_secret_values(std::move(warning), loaded.settings);
  }
  config.secret_values_ = std::make_shared<const std::vector<std::string>>(secret_values(loaded.settings));
  *config.settings_ = std::move(loaded.settings);
  config.sources_ = std::move(loaded.sources);
  config.warnings_ = std::move(loaded.warnings);
  return config;
}

void Config::use_bootstrap_servers(std::string servers) {
  settings_->bootstrap_servers = std::move(servers);
  settings_->embedded = settings_->bootstrap_servers == "embedded";
  sources_[env_var::KAFKA_BOOTSTRAP_SERVERS] = std::string(source::code);
}

void Config::set_group_id(std::string group) {
  settings_->group_id = std::move(group);
  sources_[env_var::KAFKA_CONSUMER_GROUP] = std::string(source::code);
}

std::vector<Property> Config::consumer_properties() const {
  return build_properties(*settings_, Client::consumer, certificate_location_);
}

std::vector<Property> Config::producer_properties() const {
  return build_properties(*settings_, Client::producer, certificate_location_);
}

std::vector<Property> Config::loop_producer_properties() const {
  return build_properties(*settings_, Client::loop_producer, certificate_location_);
}

std::string Config::source_of(std::string_view variable) const {
  const auto it = sources_.find(variable);
  return it == sources_.end() ? std::string() : it->second;
}

}  // namespace kernel
