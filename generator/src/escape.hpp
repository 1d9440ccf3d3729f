#pragma once
/// Escaping of answers for the file they land in. Every template file declares its language
/// in the template manifest; `{{value}}` is escaped for it, `{{{value}}}` is not (used only
/// for values the generator has already restricted, like names and topics).
#include <string>
#include <string_view>

namespace new_kernel {

enum class Language {
  plain,     ///< no escaping (Dockerfile, .gitignore, .env: only validated values land there)
  cpp,       ///< inside a C++ string literal "..."
  cmake,     ///< inside a CMake quoted argument "..."
  yaml,      ///< inside a YAML double-quoted scalar "..."
  json,      ///< inside a JSON string "..."
  markdown,  ///< Markdown text (not inside a code span)
};

/// Parses a manifest's language name; nullopt-like: throws std::invalid_argument if unknown.
Language language_from_name(std::string_view name);
std::string_view name_of(Language language) noexcept;

/// Escapes `value` for `language`.
std::string escape(Language language, std::string_view value);

std::string escape_cpp_string(std::string_view value);
std::string escape_cmake_string(std::string_view value);
std::string escape_yaml_string(std::string_view value);
std::string escape_json_string(std::string_view value);
std::string escape_markdown(std::string_view value);

}  // namespace new_kernel
