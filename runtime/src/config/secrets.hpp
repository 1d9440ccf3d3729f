#pragma once
// Which names and values are secret, and masking them (describe.cpp).
#include <string>
#include <string_view>
#include <vector>

#include "kernel/config.hpp"

namespace kernel::config_detail {

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
