// The configuration reference (docs/configuration.md) rendered from the registry, so the
// docs cannot drift from what the runtime reads.
#include <sstream>

#include "kernel/config.hpp"

namespace kernel {

namespace {
std::string escape_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}
}  // namespace

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
    out << "| " << name << " | " << type << " | " << escape_cell(fallback) << " | " << escape_cell(spec.description)
        << " |\n";
  }
  return out.str();
}

}  // namespace kernel
