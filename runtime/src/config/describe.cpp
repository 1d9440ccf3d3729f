// --print-config: every setting with its source, then the librdkafka properties each
// client gets. Secrets show as ***, certificates by subject and fingerprint.
#include "config/config_detail.hpp"

namespace kernel {

using namespace config_detail;

namespace {

std::string shown_setting(std::string_view name, const std::string& value) {
  if (value.empty()) return "";
  if (is_secret_name(name)) return "***";
  if (name == "KAFKA_CA_CERT" || name == "KAFKA_CLIENT_CERT") return describe_certificates(value);
  return printable_value(value);
}

std::string shown_property(const Property& property, const Settings& settings) {
  if (property.secret || is_secret_property(property.name)) return "***";
  if (property.name == "ssl.ca.pem") return describe_certificates(property.value);
  if (property.name == "ssl.certificate.location" && property.variable == "KAFKA_CLIENT_CERT") {
    return property.value + " (in memory: " + describe_certificates(settings.client_cert_pem) + ")";
  }
  return printable_value(property.value);
}

void append_properties(std::string& out, std::string_view title,
                       const std::vector<Property>& properties, const Settings& settings) {
  out += "\n# ";
  out += title;
  out += "\n";
  for (const auto& property : properties) {
    out += property.name + "=" + shown_property(property, settings);
    if (!property.variable.empty()) out += "  # " + property.variable;
    out += "\n";
  }
}

}  // namespace

std::string Config::describe() const {
  const auto values = effective_values(settings_);
  std::string out = "# settings of " + settings_.kernel_name + " (value  # source)\n";
  auto line = [&](const std::string& name) {
    const auto it = values.find(name);
    const auto value = it == values.end() ? std::string() : it->second;
    out += name + "=" + shown_setting(name, value) + "  # " +
           (source_of(name).empty() ? "default" : source_of(name)) + "\n";
  };
  for (const auto& spec : config_registry()) line(spec.name);
  for (const auto& p : settings_.passthrough) line(p.variable);
  append_properties(out, "librdkafka consumer properties", consumer_properties(), settings_);
  append_properties(out, "librdkafka producer properties", producer_properties(), settings_);
  return out;
}

}  // namespace kernel
