// The registry: every variable the runtime reads, declared once with its names, its type
// (how its text is parsed, written back and checked), its default, where it lands in
// Settings and its documentation. Loading, validation, --print-config, docs/configuration.md
// and the generator's .env.template are loops over this table, whose rows are written in
// registry_kafka.cpp, registry_kernel.cpp and registry_ops.cpp. Part of kernel_config.
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/registry_lookup.hpp"
#include "config/registry_rows.hpp"

namespace kernel {

using namespace config_detail;

namespace {

std::vector<VariableSpec> make_registry() {
  auto rows = registry_rows::kafka_rows();
  for (auto* part : {&registry_rows::kernel_rows, &registry_rows::ops_rows, &registry_rows::reply_rows}) {
    for (auto& row : part()) rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

const std::vector<VariableSpec>& config_registry() {
  static const std::vector<VariableSpec> registry = make_registry();
  return registry;
}

Settings::Settings() {
  for (const auto& spec : config_registry()) {
    if (!spec.default_value.empty()) spec.read(spec.default_value, *this);
  }
}

std::string config_registry_json() {
  auto rows = nlohmann::ordered_json::array();
  for (const auto& spec : config_registry()) {
    rows.push_back({{"name", spec.name},
                    {"aliases", spec.aliases},
                    {"type", spec.type},
                    {"default_value", spec.default_value},
                    {"secret", spec.secret},
                    {"description", spec.description},
                    {"accepted", spec.accepted}});
  }
  return rows.dump(2);
}

std::string config_registry_markdown() {
  std::ostringstream out;
  out << "# Configuration reference\n\n"
         "Every variable a kernel reads, generated from the runtime's registry (do not edit by hand: run\n"
         "`scripts/update-config-docs.sh`). Values come from the environment; a `.env` file in the working\n"
         "directory fills only what the environment leaves unset, and an empty value counts as unset.\n"
         "Durations need a unit (`250ms`, `10s`, `1m`); sizes are bytes or `KB`/`MB` (10^3, 10^6) and\n"
         "`KiB`/`MiB`; booleans are `true/false/1/0/yes/no`. Any other librdkafka property can be set as\n"
         "`KAFKA_PROPERTY_<NAME>` (`_` becomes `.`, `__` becomes `_`). A number beyond the range of the\n"
         "librdkafka property it sets is refused with that range (librdkafka itself would keep only 32 bits\n"
         "of it), and each broker needs a port from 1 to 65535. Problems are reported all at once, one line\n"
         "each, and the kernel exits with 78. Secret values are never printed or logged.\n\n"
         "A kernel adds its own settings (`<KERNEL_NAME>_<SETTING>`) and named outputs\n"
         "(`KAFKA_OUTPUT_TOPIC_<NAME>`), read by the same rules: see kernel-settings.md. A kernel binary\n"
         "prints every variable it reads, its own included, with `--print-config --format env|markdown|json`.\n\n"
         "| variable | type | default | description |\n"
         "| --- | --- | --- | --- |\n";
  for (const auto& spec : config_registry()) {
    std::string name = "`" + spec.name + "`";
    for (const auto& alias : spec.aliases) name += " (alias `" + alias + "`)";
    if (spec.secret) name += " *secret*";
    std::string type = spec.type;
    if (!spec.accepted.empty()) {
      type.clear();
      for (const auto& value : spec.accepted) type += (type.empty() ? "" : ", ") + ("`" + value + "`");
    }
    const std::string fallback = spec.default_value.empty() ? "" : "`" + spec.default_value + "`";
    out << "| " << name << " | " << type << " | " << markdown_cell(fallback) << " | " << markdown_cell(spec.description)
        << " |\n";
  }
  return out.str();
}

namespace config_detail {

const VariableSpec* find_variable(std::string_view name) {
  for (const auto& spec : config_registry()) {
    if (spec.name == name) return &spec;
    for (const auto& alias : spec.aliases) {
      if (alias == name) return &spec;
    }
  }
  return nullptr;
}

std::vector<VariableSpec> all_variables(const Settings& settings) {
  auto rows = config_registry();
  for (auto& row : kernel_variables(settings.kernel_name, settings.kernel_settings, settings.named_outputs)) {
    rows.push_back(std::move(row));
  }
  return rows;
}

bool is_secret_variable(std::string_view name) {
  const auto* spec = find_variable(name);
  return spec != nullptr && spec->secret;
}

std::vector<std::string> known_variable_names() {
  std::vector<std::string> names;
  for (const auto& spec : config_registry()) {
    names.push_back(spec.name);
    names.insert(names.end(), spec.aliases.begin(), spec.aliases.end());
  }
  return names;
}

}  // namespace config_detail
}  // namespace kernel
