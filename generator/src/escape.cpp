#include "escape.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace new_kernel {

Language language_from_name(std::string_view name) {
  if (name == "plain") return Language::plain;
  if (name == "cpp") return Language::cpp;
  if (name == "cmake") return Language::cmake;
  if (name == "yaml") return Language::yaml;
  if (name == "json") return Language::json;
  if (name == "markdown") return Language::markdown;
  throw std::invalid_argument(
      fmt::format("unknown language \"{}\" (expected plain, cpp, cmake, yaml, json or markdown)", name));
}

std::string_view name_of(Language language) noexcept {
  switch (language) {
    case Language::plain: return "plain";
    case Language::cpp: return "cpp";
    case Language::cmake: return "cmake";
    case Language::yaml: return "yaml";
    case Language::json: return "json";
    case Language::markdown: return "markdown";
  }
  return "plain";
}

std::string escape(Language language, std::string_view value) {
  switch (language) {
    case Language::plain: return std::string(value);
    case Language::cpp: return escape_cpp_string(value);
    case Language::cmake: return escape_cmake_string(value);
    case Language::yaml: return escape_yaml_string(value);
    case Language::json: return escape_json_string(value);
    case Language::markdown: return escape_markdown(value);
  }
  return std::string(value);
}

namespace {

/// `value` inside a double-quoted string of a C-like syntax (C++, YAML): backslash, quote, \n,
/// \t and \r escaped, any other control character as `control` writes its byte; UTF-8
/// passes through (the files are UTF-8).
template <typename Control>
std::string escape_quoted(std::string_view value, Control control) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          out += control(byte);
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace

std::string escape_cpp_string(std::string_view value) {
  // Octal takes at most three digits, so a following digit cannot extend it (\x would).
  return escape_quoted(value, [](unsigned char byte) { return fmt::format("\\{:03o}", byte); });
}

std::string escape_cmake_string(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '$': out += "\\$"; break;  // no ${variable} references
      case '@': out += "\\@"; break;  // no @VAR@ if the file is ever configure_file'd
      case ';': out += "\\;"; break;  // not a list separator
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_yaml_string(std::string_view value) {
  return escape_quoted(value, [](unsigned char byte) { return fmt::format("\\x{:02x}", byte); });
}

std::string escape_json_string(std::string_view value) {
  // nlohmann writes the quoted form; strip the quotes. Invalid UTF-8 is replaced, not thrown.
  const auto quoted = nlohmann::json(std::string(value)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

std::string escape_markdown(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '<':
      case '>':
      case '#':
      case '|':
      case '!':
      case '~':
        out += '\\';
        out += c;
        break;
      case '&': out += "&amp;"; break;
      case '\n': out += ' '; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace new_kernel
