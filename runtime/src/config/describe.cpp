// What may be printed: --print-config (every setting with its source, then the librdkafka
// properties each client gets) and secret masking for everything else that is printed.
// librdkafka's log lines and conf dumps show some secrets in clear, so every such line
// passes through mask_secrets() first. Secrets show as ***, certificates by subject and
// fingerprint.
#include <algorithm>

#include "config/rdkafka_properties.hpp"
#include "config/registry_lookup.hpp"
#include "config/secrets.hpp"
#include "config/tls.hpp"
#include "config/validate.hpp"
#include "config/values.hpp"

namespace kernel {

using namespace config_detail;

namespace {

// Properties whose values are hidden, as librdkafka names them.
constexpr std::string_view secret_properties[] = {"sasl.password",
                                                  "ssl.key.password",
                                                  "ssl.key.pem",
                                                  "ssl.certificate.pem",
                                                  "ssl_key",
                                                  "ssl.keystore.password",
                                                  "ssl.truststore.password",
                                                  "sasl.oauthbearer.client.secret",
                                                  "sasl.oauthbearer.config",
                                                  "ssl_certificate"};

// Keys whose values are hidden: those properties and the registry's secret variables.
const std::vector<std::string>& secret_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> keys(std::begin(secret_properties), std::end(secret_properties));
    for (const auto& spec : config_registry()) {
      if (spec.secret) keys.push_back(spec.name);
    }
    return keys;
  }();
  return keys;
}

bool is_key_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_'; }

// After `key`, an optional closing quote, spaces, then `=` or `:`; returns where the value
// starts, or npos when this is not a key/value pair.
std::size_t value_start(std::string_view text, std::size_t after_key) {
  auto i = after_key;
  if (i < text.size() && (text[i] == '"' || text[i] == '\'')) ++i;
  while (i < text.size() && text[i] == ' ') ++i;
  if (i >= text.size() || (text[i] != '=' && text[i] != ':')) return std::string_view::npos;
  ++i;
  while (i < text.size() && text[i] == ' ') ++i;
  return i;
}

// The value ends at its closing quote, or at the end of the line. A PEM value runs to its
// END line, even across lines.
std::size_t value_end(std::string_view text, std::size_t start) {
  if (start < text.size() && (text[start] == '"' || text[start] == '\'')) {
    const auto close = text.find(text[start], start + 1);
    return close == std::string_view::npos ? text.size() : close + 1;
  }
  if (text.substr(start).starts_with("-----BEGIN")) {
    const auto end = text.find("-----END", start);
    if (end == std::string_view::npos) return text.size();
    const auto dashes = text.find("-----", end + 8);
    return dashes == std::string_view::npos ? text.size() : dashes + 5;
  }
  const auto newline = text.find('\n', start);
  return newline == std::string_view::npos ? text.size() : newline;
}

std::string mask_keyed_values(std::string_view text) {
  std::string out;
  std::size_t copied = 0;
  for (std::size_t i = 0; i < text.size();) {
    bool masked = false;
    if (i == 0 || !is_key_char(text[i - 1])) {
      for (const std::string_view key : secret_keys()) {
        if (text.substr(i, key.size()) != key) continue;
        const auto after = i + key.size();
        if (after < text.size() && is_key_char(text[after])) continue;
        const auto start = value_start(text, after);
        if (start == std::string_view::npos) continue;
        const auto end = value_end(text, start);
        if (end == start) continue;  // empty value: nothing to hide
        out.append(text.substr(copied, start - copied));
        out += "***";
        copied = end;
        i = end;
        masked = true;
        break;
      }
    }
    if (!masked) ++i;
  }
  out.append(text.substr(copied));
  return out;
}

// Any private key block, wherever it appears (debug output, exceptions).
std::string mask_private_key_blocks(std::string text) {
  for (auto begin = text.find("-----BEGIN"); begin != std::string::npos; begin = text.find("-----BEGIN", begin + 1)) {
    const auto header_end = text.find("-----", begin + 10);
    if (header_end == std::string::npos) break;
    const auto header = std::string_view(text).substr(begin, header_end - begin);
    if (header.find("PRIVATE KEY") == std::string_view::npos) continue;
    const auto end = text.find("-----END", header_end);
    auto stop = end == std::string::npos ? text.size() : text.find("-----", end + 8);
    stop = stop == std::string::npos ? text.size() : stop + 5;
    text.replace(begin, stop - begin, "***");
  }
  return text;
}

std::string shown_setting(std::string_view name, const std::string& value) {
  if (value.empty()) return "";
  if (is_secret_name(name)) return "***";
  if (const auto* spec = find_variable(name); spec != nullptr && spec->type == "pem") {
    return describe_certificates(value);
  }
  return printable_value(value);
}

std::string shown_property(const Property& property, const Settings& settings) {
  if (property.secret || is_secret_property(property.name)) return "***";
  if (property.name == "ssl.ca.pem") return describe_certificates(property.value);
  if (property.name == "ssl.certificate.location" && property.variable == env_var::KAFKA_CLIENT_CERT) {
    return property.value + " (in memory: " + describe_certificates(settings.client_cert_pem) + ")";
  }
  return printable_value(property.value);
}

void append_properties(std::string& out, std::string_view title, const std::vector<Property>& properties,
                       const Settings& settings) {
  out += "\n# ";
  out += title;
  out += "\n";
  for (const auto& property : properties) {
    out += property.name + "=" + shown_property(property, settings);
    if (!property.variable.empty()) out += (property.derived ? "  # from " : "  # ") + property.variable;
    out += "\n";
  }
}

}  // namespace

std::string mask_secrets(std::string_view text) { return mask_private_key_blocks(mask_keyed_values(text)); }

std::string Config::describe() const {
  const auto values = effective_values(settings());
  std::string out = "# settings of " + settings().kernel_name + " (value  # source)\n";
  auto line = [&](const std::string& name) {
    const auto it = values.find(name);
    const auto value = it == values.end() ? std::string() : it->second;
    out += name + "=" + shown_setting(name, value) + "  # " + (source_of(name).empty() ? "default" : source_of(name)) +
           "\n";
  };
  for (const auto& spec : config_registry()) line(spec.name);
  for (const auto& p : settings().passthrough) line(p.variable);
  const auto own = kernel_variables(settings().kernel_name, settings().kernel_settings, settings().named_outputs);
  if (!own.empty()) out += "\n# settings and outputs " + settings().kernel_name + " declares (value  # source)\n";
  for (const auto& spec : own) {
    const auto value = spec.show(settings());
    out += spec.name + "=" + (spec.secret && !value.empty() ? "***" : printable_value(value)) + "  # " +
           (source_of(spec.name).empty() ? "default" : source_of(spec.name)) + "\n";
  }
  append_properties(out, "librdkafka consumer properties", consumer_properties(), settings());
  append_properties(out, "librdkafka producer properties", loop_producer_properties(), settings());
  return out;
}

std::string Config::redact(std::string_view text) const { return redact_secret_values(mask_secrets(text)); }

std::string Config::redact_secret_values(std::string_view text) const {
  if (!secret_values_) return replace_secret_values(std::string(text), settings());
  return replace_values(std::string(text), *secret_values_);
}

std::function<std::string(std::string_view)> Config::secret_value_redactor() const {
  auto secrets =
      secret_values_ ? secret_values_ : std::make_shared<const std::vector<std::string>>(secret_values(settings()));
  if (secrets->empty()) return {};
  return [secrets = std::move(secrets)](std::string_view text) { return replace_values(std::string(text), *secrets); };
}

namespace config_detail {

bool is_secret_property(std::string_view property) {
  for (const auto key : secret_properties) {
    if (key == property) return true;
  }
  return property.find("password") != std::string_view::npos || property.find("secret") != std::string_view::npos;
}

bool is_secret_name(std::string_view variable) {
  if (is_secret_variable(variable)) return true;
  const auto property = passthrough_property_name(variable);
  return property && is_secret_property(*property);
}

// Very short values would mask ordinary words; they are still masked by name.
std::vector<std::string> secret_values(const Settings& s) {
  std::vector<std::string> secrets;
  auto add = [&](std::string_view value) {
    const auto trimmed = trim(value);
    if (trimmed.size() >= 4) secrets.emplace_back(trimmed);
  };
  for (const auto& spec : all_variables(s)) {
    if (spec.secret) add(spec.show(s));
  }
  for (const auto& p : s.passthrough) {
    if (is_secret_property(p.property)) add(p.value);
  }
  // Longest first: a secret that contains another is masked whole.
  std::sort(secrets.begin(), secrets.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return secrets;
}

std::string replace_values(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& value : secrets) {
    for (auto at = text.find(value); at != std::string::npos; at = text.find(value, at)) {
      text.replace(at, value.size(), "***");
    }
  }
  return text;
}

std::string replace_secret_values(std::string text, const Settings& s) {
  return replace_values(std::move(text), secret_values(s));
}

}  // namespace config_detail
}  // namespace kernel
