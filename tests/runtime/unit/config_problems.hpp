#pragma once
// What the configuration tests ask of a load that should fail: the problems its ConfigError
// lists, or its one problem. Each test file passes its own load (its kernel, mode, .env).
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include <kernel/config.hpp>

namespace config_problems {

/// The problems of the ConfigError `load()` throws; none when it loads.
template <typename Load>
std::vector<std::string> problems_from(Load&& load) {
  try {
    load();
  } catch (const kernel::ConfigError& error) {
    return error.problems();
  }
  return {};
}

/// The one problem `load()` reports: a failed REQUIRE when it reports none or more.
template <typename Load>
std::string only_problem_from(Load&& load) {
  auto problems = problems_from(load);
  REQUIRE(problems.size() == 1);
  return problems.front();
}

inline bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace config_problems
