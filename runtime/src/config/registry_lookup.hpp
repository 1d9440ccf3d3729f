#pragma once
// Looking a variable up in the registry by name (registry.cpp), for loading, validation
// and the librdkafka mapping.
#include <string>
#include <string_view>
#include <vector>

#include "config/registry.hpp"

namespace kernel::config_detail {

/// The registry row for a canonical name or one of its aliases; nullptr if unknown.
const VariableSpec* find_variable(std::string_view name);
bool is_secret_variable(std::string_view name);
/// Every canonical name and alias, for suggestions.
std::vector<std::string> known_variable_names();
/// The registry's rows followed by the kernel's own (its settings and named outputs).
std::vector<VariableSpec> all_variables(const Settings& settings);

}  // namespace kernel::config_detail
