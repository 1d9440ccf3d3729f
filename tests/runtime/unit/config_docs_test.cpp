// docs/ and the registry agree: configuration.md lists every variable; every other settings
// table (a table with `variable` and `default` columns) names registry variables with their
// registry defaults; a default written in prose as `NAME` (VALUE) is the registry's; and
// failure-handling.md names no variable the runtime does not read.
#include <doctest/doctest.h>

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "config/registry.hpp"
#include "config/settings.hpp"
#include "docs_pages.hpp"

namespace config_docs_test {

using namespace kernel;
using docs_pages::cells_of;
using docs_pages::read_doc;
using docs_pages::trim;

namespace {

const VariableSpec* find_spec(std::string_view name) {
  for (const auto& spec : config_registry()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string without(std::string text, std::string_view characters) {
  std::erase_if(text, [&](char c) { return characters.find(c) != std::string_view::npos; });
  return text;
}

/// The `KAFKA_...` and `KERNEL_...` names written in backticks in `text`.
std::vector<std::string> variable_names(const std::string& text) {
  static const std::regex name("`((KAFKA|KERNEL)_[A-Z0-9_]+)`");
  std::vector<std::string> names;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator(); ++it) {
    names.push_back((*it)[1]);
  }
  return names;
}

/// What a doc says of `spec`'s default matches the registry: "unset" for none, else a value
/// that reads as the registry's default does.
void check_default(const VariableSpec& spec, const std::string& written) {
  CAPTURE(written);
  if (spec.from_kernel != FromKernel::nothing) return;  // the kernel's code gives it, not the registry
  if (written.starts_with("unset")) {
    CHECK_MESSAGE(spec.default_value.empty(), "documented as unset by default; the registry's default is ",
                  spec.default_value);
    return;
  }
  REQUIRE_MESSAGE(!spec.default_value.empty(), "documented default ", written, "; the registry has none");
  Settings documented, registered;
  REQUIRE_MESSAGE(spec.read(written, documented).empty(), "the documented default does not read as a value");
  REQUIRE(spec.read(spec.default_value, registered).empty());
  CHECK_MESSAGE(spec.show(documented) == spec.show(registered), "the registry's default is ", spec.default_value);
}

/// The value a default cell starts with ("3 (4 attempts in all)", "200ms, the first delay",
/// "`key`", "10 s"), written as a user would set it.
std::string leading_value(const std::string& cell) {
  auto end = cell.size();
  for (const std::string_view stop : {" (", ", ", ": ", ";"}) end = std::min(end, cell.find(stop));
  return without(cell.substr(0, end), "` ");
}

struct SettingsRow {
  std::string page;
  std::vector<std::string> names;
  std::string default_cell;
};

/// The rows of every table whose header has a `variable` and a `default` column.
std::vector<SettingsRow> settings_rows(const std::string& page) {
  std::vector<SettingsRow> rows;
  std::istringstream text(read_doc(page));
  std::string line;
  std::optional<std::pair<std::size_t, std::size_t>> columns;  // variable, default
  while (std::getline(text, line)) {
    if (!line.starts_with("|")) {
      columns.reset();
      continue;
    }
    const auto cells = cells_of(line);
    if (!columns) {
      const auto variable = std::find(cells.begin(), cells.end(), "variable");
      const auto fallback = std::find(cells.begin(), cells.end(), "default");
      if (variable != cells.end() && fallback != cells.end()) {
        columns.emplace(variable - cells.begin(), fallback - cells.begin());
      }
      continue;
    }
    if (line.starts_with("| ---") || cells.size() <= std::max(columns->first, columns->second)) continue;
    rows.push_back({page, variable_names(cells[columns->first]), cells[columns->second]});
  }
  return rows;
}

std::vector<std::string> pages_besides_configuration() {
  std::vector<std::string> pages;
  for (const auto& entry : std::filesystem::directory_iterator(KERNEL_DOCS_DIR)) {
    const auto name = entry.path().filename().string();
    // configuration.md is rendered from the registry (and checked whole below).
    if (entry.path().extension() == ".md" && name != "configuration.md") pages.push_back(name);
  }
  std::sort(pages.begin(), pages.end());
  return pages;
}

/// A Kafka error code as librdkafka names it without its RD_KAFKA_RESP_ERR_ prefix
/// (KAFKA_STORAGE_ERROR), which a page may name beside variables.
bool is_error_code(std::string_view name) {
  const rd_kafka_err_desc* descriptions = nullptr;
  std::size_t count = 0;
  rd_kafka_get_err_descs(&descriptions, &count);
  return std::any_of(descriptions, descriptions + count, [&](const rd_kafka_err_desc& description) {
    return description.name != nullptr && name == description.name;
  });
}

}  // namespace

TEST_CASE("config docs: docs/configuration.md lists every variable with its aliases and default") {
  std::istringstream text(read_doc("configuration.md"));
  std::map<std::string, std::string> rows;  // variable -> its table row
  std::string line;
  while (std::getline(text, line)) {
    if (!line.starts_with("| `")) continue;
    rows[line.substr(3, line.find('`', 3) - 3)] = line;
  }
  std::set<std::string> names;
  for (const auto& spec : config_registry()) {
    CAPTURE(spec.name);
    names.insert(spec.name);
    REQUIRE(rows.contains(spec.name));
    const auto& row = rows[spec.name];
    for (const auto& alias : spec.aliases) CHECK(row.find("`" + alias + "`") != std::string::npos);
    if (!spec.default_value.empty()) CHECK(row.find("| `" + spec.default_value + "` |") != std::string::npos);
    for (const auto& value : spec.accepted) CHECK(row.find("`" + value + "`") != std::string::npos);
    CHECK((row.find("*secret*") != std::string::npos) == spec.secret);
  }
  for (const auto& [name, row] : rows) CHECK_MESSAGE(names.contains(name), name, " is documented but not read");
}

TEST_CASE("config docs: each settings table's variables exist, with the registry's defaults") {
  std::set<std::string> pages_with_tables;
  for (const auto& page : pages_besides_configuration()) {
    for (const auto& row : settings_rows(page)) {
      CAPTURE(row.page);
      CAPTURE(row.default_cell);
      REQUIRE_MESSAGE(!row.names.empty(), "a settings row names no variable");
      // `A`, `B` | 10s, 5m: one default each, in order.
      std::vector<std::string> defaults;
      std::istringstream cell(row.default_cell);
      for (std::string part; std::getline(cell, part, ',');) defaults.push_back(trim(part));
      if (row.names.size() == 1) defaults = {row.default_cell};
      REQUIRE(defaults.size() == row.names.size());
      for (std::size_t i = 0; i < row.names.size(); ++i) {
        CAPTURE(row.names[i]);
        const auto* spec = find_spec(row.names[i]);
        REQUIRE_MESSAGE(spec != nullptr, "documented but not read by the runtime");
        check_default(*spec, leading_value(defaults[i]));
      }
      pages_with_tables.insert(page);
    }
  }
  // The pages known to have one: the test would otherwise pass by finding none.
  for (const auto* page : {"failure-handling.md", "batches.md", "concurrency.md"}) {
    CHECK_MESSAGE(pages_with_tables.contains(page), page, " has no settings table any more");
  }
}

TEST_CASE("config docs: a default written in prose, `NAME` (VALUE), is the registry's") {
  // A value only: words in the parentheses ("(max.poll.interval.ms)", "(at most 10 s)") are
  // something else, and text settings would read any words as a value.
  static const std::regex written("`((KAFKA|KERNEL)_[A-Z0-9_]+)`\\s*\\(([^)]*)\\)");
  const std::set<std::string> typed{"duration", "int", "size", "float", "bool", "port", "count,duration"};
  int checked = 0;
  for (const auto& page : pages_besides_configuration()) {
    const auto text = read_doc(page);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), written); it != std::sregex_iterator(); ++it) {
      const auto* spec = find_spec((*it)[1].str());
      if (spec == nullptr || !typed.contains(spec->type)) continue;
      auto value = std::regex_replace((*it)[3].str(), std::regex("\\s+"), " ");
      if (value.ends_with(" by default")) value.resize(value.size() - std::string_view(" by default").size());
      const auto compact = without(value, " ");
      Settings scratch;
      if (!value.starts_with("unset") && !spec->read(compact, scratch).empty()) continue;
      CAPTURE(page);
      CAPTURE(spec->name);
      check_default(*spec, value.starts_with("unset") ? value : compact);
      ++checked;
    }
  }
  CHECK(checked >= 5);  // failure-handling.md writes four (the breaker's three, the deadline's)
}

TEST_CASE("config docs: failure-handling.md names only variables the runtime reads") {
  const auto text = read_doc("failure-handling.md");
  static const std::regex named("`((KAFKA|KERNEL)_[A-Z0-9_]*\\*?)");
  int names = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), named); it != std::sregex_iterator(); ++it) {
    const auto name = (*it)[1].str();
    CAPTURE(name);
    ++names;
    if (name.starts_with(env_var::KAFKA_PROPERTY_PREFIX) || is_error_code(name)) continue;  // librdkafka's names
    if (name.ends_with("*")) {
      const auto prefix = name.substr(0, name.size() - 1);
      CHECK_MESSAGE(std::any_of(config_registry().begin(), config_registry().end(),
                                [&](const VariableSpec& spec) { return spec.name.starts_with(prefix); }),
                    "no variable starts with ", prefix);
      continue;
    }
    CHECK_MESSAGE(find_spec(name) != nullptr, "named but not read by the runtime");
  }
  CHECK(names > 20);
}

}  // namespace config_docs_test
