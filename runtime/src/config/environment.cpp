// Reading variables: the process environment, a .env file beneath it, and aliases.
#include <fstream>

#include "config/config_detail.hpp"

extern char** environ;

namespace kernel {

Environment process_environment() {
  Environment environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto eq = text.find('=');
    if (eq != std::string_view::npos) {
      environment.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
    }
  }
  return environment;
}

namespace config_detail {

namespace {

bool is_variable_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_';
    if (!ok) return false;
  }
  return true;
}

// A quoted value runs to its closing quote; inside double quotes \n, \" and \\ are
// escapes (so a PEM can sit on one line). An unquoted value ends at a ` #` comment.
std::optional<std::string> dotenv_value(std::string_view text) {
  if (!text.empty() && (text[0] == '"' || text[0] == '\'')) {
    const char quote = text[0];
    std::string value;
    for (std::size_t i = 1; i < text.size(); ++i) {
      const char c = text[i];
      if (c == quote) {
        const auto rest = trim(text.substr(i + 1));
        if (!rest.empty() && rest[0] != '#') return std::nullopt;
        return value;
      }
      if (quote == '"' && c == '\\' && i + 1 < text.size()) {
        const char next = text[++i];
        value += next == 'n' ? '\n' : next;
        continue;
      }
      value += c;
    }
    return std::nullopt;  // no closing quote
  }
  auto comment = text.find(" #");
  return trim(text.substr(0, comment));
}

}  // namespace

Environment read_dotenv(const std::filesystem::path& path, Problems& problems) {
  Environment values;
  std::ifstream file(path);
  if (!file) return values;  // a .env file is optional
  std::string line;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    auto text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    if (text.starts_with("export ")) text = trim(std::string_view(text).substr(7));
    const auto eq = text.find('=');
    const auto name = eq == std::string::npos ? text : trim(std::string_view(text).substr(0, eq));
    auto value = eq == std::string::npos ? std::nullopt
                                         : dotenv_value(trim(std::string_view(text).substr(eq + 1)));
    if (eq == std::string::npos || !is_variable_name(name) || !value) {
      // The line is not echoed: it may hold a secret.
      problems.add_general(path.filename().string() + " line " + std::to_string(number) +
                           ": expected NAME=value, NAME=\"value\" or a # comment");
      continue;
    }
    values.insert_or_assign(name, std::move(*value));
  }
  return values;
}

std::optional<RawValue> LayeredEnvironment::get(const VariableSpec& spec,
                                                Problems& problems) const {
  std::vector<std::string> names{spec.name};
  names.insert(names.end(), spec.aliases.begin(), spec.aliases.end());
  for (const auto* layer : {&environment_, &dotenv_}) {
    std::optional<RawValue> found;
    for (const auto& name : names) {
      const auto it = layer->find(name);
      if (it == layer->end() || it->second.empty()) continue;  // empty counts as unset
      if (!found) {
        found = RawValue{name, it->second, std::string(layer == &environment_ ? source::env
                                                                                : source::dotenv)};
      } else if (found->text != it->second) {
        problems.add(name, it->second,
                     "conflicts with " + found->name_used + "=\"" + printable_value(found->text) +
                         "\"; they name the same setting: set only one, or both alike");
      }
    }
    if (found) return found;
  }
  return std::nullopt;
}

std::map<std::string, RawValue, std::less<>> LayeredEnvironment::all() const {
  std::map<std::string, RawValue, std::less<>> all;
  for (const auto& [name, value] : dotenv_) {
    if (!value.empty()) all[name] = RawValue{name, value, std::string(source::dotenv)};
  }
  for (const auto& [name, value] : environment_) {
    if (!value.empty()) all[name] = RawValue{name, value, std::string(source::env)};
  }
  return all;
}

}  // namespace config_detail
}  // namespace kernel
