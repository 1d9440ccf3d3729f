// Config: loading, the checks every Settings gets, and the few ways code may change it.
#include "config/config_detail.hpp"

namespace kernel {

using namespace config_detail;

namespace {

// A KAFKA_PROPERTY_* that sets what an explicitly given variable also sets is ambiguous.
void check_passthrough_overlap(const Loaded& loaded, Problems& problems) {
  const auto& s = loaded.settings;
  for (const auto& p : s.passthrough) {
    for (const auto client : {Client::consumer, Client::producer}) {
      Settings without = s;
      without.passthrough.clear();
      for (const auto& property : build_properties(without, client, "")) {
        if (property.name != p.property || property.variable.empty()) continue;
        const auto source = loaded.sources.find(property.variable);
        if (source == loaded.sources.end() ||
            (source->second != source::env && source->second != source::dotenv)) {
          continue;
        }
        if (!problems.mentions(p.variable)) {
          problems.add(p.variable, p.value,
                       p.property + " is also set by " + property.variable +
                           "; set only one of them");
        }
      }
    }
  }
}

// Replaces every occurrence of a secret value; very short values would mask ordinary
// words, and are still masked by name.
std::string replace_secret_values(std::string text, const Settings& s) {
  std::vector<std::string> secrets{s.client_key_pem, s.client_key_password, s.sasl_password,
                                   s.admin_token};
  for (const auto& p : s.passthrough) {
    if (is_secret_property(p.property)) secrets.push_back(p.value);
  }
  for (const auto& secret : secrets) {
    const auto value = trim(secret);
    if (value.size() < 4) continue;
    for (auto at = text.find(value); at != std::string::npos; at = text.find(value, at)) {
      text.replace(at, value.size(), "***");
    }
  }
  return text;
}

}  // namespace

Config Config::load(const KernelDefaults& defaults, const Environment& environment, RunMode mode,
                    const std::filesystem::path& dotenv) {
  Problems problems;
  auto loaded = read_settings(defaults, environment, mode, dotenv, problems);
  check_passthrough_overlap(loaded, problems);
  return validate(std::move(loaded), problems);
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
    std::string error;
    config.keep_alive_ = make_memory_file(loaded.settings.client_cert_pem,
                                          config.certificate_location_, error);
    if (!config.keep_alive_) problems.add("KAFKA_CLIENT_CERT", "", error);
  }
  check_with_librdkafka(
      build_properties(loaded.settings, Client::consumer, config.certificate_location_),
      build_properties(loaded.settings, Client::producer, config.certificate_location_), shown,
      problems);
  if (!problems.empty()) {
    // A secret pasted into the wrong variable must not be echoed either.
    auto lines = problems.take();
    for (auto& line : lines) line = replace_secret_values(std::move(line), loaded.settings);
    throw ConfigError(std::move(lines));
  }

  for (auto& warning : loaded.warnings) {
    warning = replace_secret_values(std::move(warning), loaded.settings);
  }
  config.settings_ = std::move(loaded.settings);
  config.sources_ = std::move(loaded.sources);
  config.warnings_ = std::move(loaded.warnings);
  return config;
}

void Config::use_bootstrap_servers(std::string servers) {
  settings_.bootstrap_servers = std::move(servers);
  settings_.embedded = settings_.bootstrap_servers == "embedded";
  sources_["KAFKA_BOOTSTRAP_SERVERS"] = std::string(source::code);
}

void Config::set_group_id(std::string group) {
  settings_.group_id = std::move(group);
  sources_["KAFKA_CONSUMER_GROUP"] = std::string(source::code);
}

std::vector<Property> Config::consumer_properties() const {
  return build_properties(settings_, Client::consumer, certificate_location_);
}

std::vector<Property> Config::producer_properties() const {
  return build_properties(settings_, Client::producer, certificate_location_);
}

std::string Config::source_of(std::string_view variable) const {
  const auto it = sources_.find(variable);
  return it == sources_.end() ? std::string() : it->second;
}

std::string Config::redact(std::string_view text) const {
  return replace_secret_values(mask_secrets(text), settings_);
}

}  // namespace kernel
