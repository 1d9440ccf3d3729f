// Configuration problems, one line each, and ConfigError that carries them.
#include "config/config_detail.hpp"

namespace kernel {

namespace {
std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += (text.empty() ? "" : "\n") + line;
  return text;
}
}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

namespace config_detail {

std::string printable_value(std::string_view value) {
  // Long values are cut so that each problem stays one readable line.
  constexpr std::size_t max_shown = 120;
  std::string out;
  for (std::size_t i = 0; i < value.size() && i < max_shown; ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > max_shown) out += "...";
  return out;
}

void Problems::add(std::string_view variable, std::string_view value, std::string_view message) {
  const auto* spec = find_variable(variable);
  const bool secret = is_secret_name(variable);
  const bool pem = spec != nullptr && spec->type == "pem";
  std::string line = "config error: " + std::string(variable);
  if (secret) {
    line += ": " + std::string(message) + " (value hidden)";
  } else if (pem) {
    line += ": " + std::string(message);
  } else {
    line += "=\"" + printable_value(value) + "\": " + std::string(message);
  }
  variables_.insert(std::string(variable));
  lines_.push_back(std::move(line));
}

void Problems::add_without_value(std::string_view variable, std::string_view message) {
  variables_.insert(std::string(variable));
  lines_.push_back("config error: " + std::string(variable) + ": " + std::string(message) +
                   (is_secret_name(variable) ? " (value hidden)" : ""));
}

void Problems::add_general(std::string_view message) {
  lines_.push_back("config error: " + std::string(message));
}

}  // namespace config_detail
}  // namespace kernel
