#pragma once
// What reading the environment produces before the checks (load.cpp), where each value
// came from, and the pipeline naming applied to it then (pipeline_naming.cpp).
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/parsed.hpp"
#include "config/settings.hpp"
#include "config/validate.hpp"

namespace kernel::config_detail {

/// Where a setting's value came from, as --print-config shows it.
namespace source {
inline constexpr std::string_view default_value = "default";
inline constexpr std::string_view env = "env";
inline constexpr std::string_view dotenv = ".env";
inline constexpr std::string_view code = "code";
inline constexpr std::string_view derived = "derived";
}  // namespace source

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

/// KERNEL_PIPELINE/KERNEL_STEP/KERNEL_TOPIC_PATTERN: checks them, replaces ${...} variables in
/// the topic settings, and fills the topics and group the environment (`given`) left unset by
/// the convention. Runs before the topic prefix is applied.
void apply_pipeline_naming(Loaded& loaded, const std::map<std::string, RawValue, std::less<>>& given,
                           Problems& problems);
/// `${name}` variables of topic patterns and topic settings replaced by `values`; or why not: an
/// unknown variable, an unclosed `${` or a variable without a value.
Parsed<std::string> substitute_topic_variables(std::string_view text,
                                               const std::map<std::string, std::string, std::less<>>& values);

}  // namespace kernel::config_detail
