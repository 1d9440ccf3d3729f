// "Did you mean": unknown KAFKA_* and KERNEL_* variables get the closest known name.
#include <algorithm>
#include <regex>

#include "config/config_detail.hpp"

namespace kernel::config_detail {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::string closest(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& candidate : candidates) {
    const auto distance = edit_distance(name, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

namespace {

// Kubernetes injects <SERVICE>_SERVICE_HOST, <SERVICE>_SERVICE_PORT[_NAME], <SERVICE>_PORT
// and <SERVICE>_PORT_<n>_<PROTO>[_...] for every service; a service named kafka or kernel-*
// must not cause warnings.
bool is_kubernetes_service_variable(const std::string& name) {
  static const std::regex kafka_service("^KAFKA_(SERVICE_|PORT).*");
  static const std::regex service(
      "^[A-Z0-9_]+_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT|PORT_[0-9]+_(TCP|UDP|SCTP)(_[A-Z0-9_]+)?)$");
  return std::regex_match(name, kafka_service) || std::regex_match(name, service);
}

}  // namespace

void warn_unknown_variables(const std::map<std::string, RawValue, std::less<>>& variables,
                            std::vector<std::string>& warnings) {
  const auto known = known_variable_names();
  for (const auto& [name, raw] : variables) {
    if (!name.starts_with("KAFKA_") && !name.starts_with("KERNEL_")) continue;
    if (name.starts_with("KAFKA_PROPERTY_")) continue;
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    if (is_kubernetes_service_variable(name)) continue;
    warnings.push_back("unknown variable " + name + (raw.source == ".env" ? " (in .env)" : "") +
                       ": did you mean " + closest(name, known) + "?");
  }
}

}  // namespace kernel::config_detail
