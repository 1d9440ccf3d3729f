#include "schema_file.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "errors.hpp"

namespace new_kernel {

namespace fs = std::filesystem;

namespace {

bool identifier_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool identifier_char(char c) { return identifier_start(c) || (c >= '0' && c <= '9'); }

/// The tokens of a .proto that matter here: words (dotted names), and single punctuation
/// characters; comments, strings and whitespace are skipped.
std::vector<std::string_view> proto_tokens(std::string_view text) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      i = std::min(text.find('\n', i), text.size());
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      const auto end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 2;
    } else if (c == '"' || c == '\'') {
      ++i;
      while (i < text.size() && text[i] != c) i += text[i] == '\\' ? 2 : 1;
      ++i;
    } else if (identifier_start(c)) {
      const auto start = i;
      while (i < text.size() && (identifier_char(text[i]) || text[i] == '.')) ++i;
      tokens.push_back(text.substr(start, i - start));
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
    } else {
      tokens.push_back(text.substr(i, 1));
      ++i;
    }
  }
  return tokens;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::string extension_of(std::string_view format) { return format == "protobuf" ? ".proto" : ".avsc"; }

/// The whole file, bounded; throws UsageError naming the problem.
std::string read_bounded(std::string_view format, const fs::path& path) {
  const auto flag = fmt::format("--schema {}", path.string());
  std::error_code error;
  const auto status = fs::status(path, error);
  if (error || !fs::exists(status)) {
    throw UsageError(
        fmt::format("{}: no such file: give the path of the {} schema the kernel reads", flag, extension_of(format)));
  }
  if (!fs::is_regular_file(status)) {
    throw UsageError(fmt::format("{}: not a regular file: give the {} file itself", flag, extension_of(format)));
  }
  const auto size = fs::file_size(path, error);
  if (error || size > max_schema_size) {
    throw UsageError(
        fmt::format("{}: larger than {} KiB: give the schema of one message type", flag, max_schema_size / 1024));
  }
  std::ifstream in(path, std::ios::binary);
  std::string content;
  if (in) content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) {
    throw UsageError(fmt::format("{}: cannot be read: check its permissions", flag));
  }
  if (content.size() > max_schema_size) {  // it grew since file_size(): still bounded
    throw UsageError(
        fmt::format("{}: larger than {} KiB: give the schema of one message type", flag, max_schema_size / 1024));
  }
  return content;
}

std::string proto_message(const SchemaFile& schema, std::string_view wanted, const std::string& flag) {
  const auto summary = summarize_proto(schema.content);
  if (summary.messages.empty()) {
    throw UsageError(
        fmt::format("{}: declares no top-level message: give a .proto with `message Name {{ ... }}`", flag));
  }
  const auto qualified = [&](const std::string& name) {
    return summary.package.empty() ? name : summary.package + "." + name;
  };
  if (wanted.empty()) return qualified(summary.messages.front());
  for (const auto& name : summary.messages) {
    if (wanted == name || wanted == qualified(name)) return qualified(name);
  }
  throw UsageError(fmt::format("--message {}: {} has no such top-level message; choose one of {}", wanted,
                               schema.file_name, joined(summary.messages)));
}

}  // namespace

bool is_dotted_name(std::string_view name) {
  if (name.empty() || name.size() > 200) return false;
  bool at_start = true;
  for (const char c : name) {
    if (c == '.') {
      if (at_start) return false;
      at_start = true;
    } else if (at_start ? identifier_start(c) : identifier_char(c)) {
      at_start = false;
    } else {
      return false;
    }
  }
  return !at_start;
}

ProtoSummary summarize_proto(std::string_view text) {
  ProtoSummary summary;
  const auto tokens = proto_tokens(text);
  int depth = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const auto token = tokens[i];
    if (token == "{") {
      ++depth;
    } else if (token == "}") {
      depth = std::max(depth - 1, 0);
    } else if (depth == 0 && i + 2 < tokens.size() && is_dotted_name(tokens[i + 1])) {
      if (token == "package" && tokens[i + 2] == ";") summary.package = tokens[i + 1];
      if (token == "message" && tokens[i + 2] == "{" && tokens[i + 1].find('.') == std::string_view::npos) {
        summary.messages.emplace_back(tokens[i + 1]);
      }
    }
  }
  return summary;
}

std::string avro_record_name(std::string_view text, std::string& problem) {
  nlohmann::json document;
  try {
    // Depth bounded while parsing: nested brackets are refused, not recursed into.
    document = nlohmann::json::parse(text, [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
      if (depth > 64) throw std::invalid_argument("nests deeper than 64 levels");
      return true;
    });
  } catch (const std::exception& error) {
    problem = fmt::format("is not JSON ({}): give an Avro schema (.avsc)", error.what());
    return {};
  }
  if (!document.is_object() || document.value("type", nlohmann::json()) != "record") {
    problem = "is not an Avro record schema: give {\"type\": \"record\", \"name\": ..., \"fields\": [...]}";
    return {};
  }
  const auto name = document.value("name", nlohmann::json());
  const auto space = document.value("namespace", nlohmann::json(""));
  if (!name.is_string() || !is_dotted_name(name.get<std::string>()) || !space.is_string() ||
      (!space.get<std::string>().empty() && !is_dotted_name(space.get<std::string>()))) {
    problem = "is a record without a valid \"name\" (and \"namespace\"): name it, e.g. \"name\": \"Order\"";
    return {};
  }
  const auto& simple = name.get_ref<const std::string&>();
  const auto& prefix = space.get_ref<const std::string&>();
  return simple.find('.') != std::string::npos || prefix.empty() ? simple : prefix + "." + simple;
}

SchemaFile read_schema(std::string_view format, const fs::path& path, std::string_view message) {
  const auto flag = fmt::format("--schema {}", path.string());
  SchemaFile schema;
  schema.file_name = path.filename().string();
  const auto extension = extension_of(format);
  const bool safe_name = !schema.file_name.empty() && identifier_start(schema.file_name.front()) &&
                         std::all_of(schema.file_name.begin(), schema.file_name.end(),
                                     [](char c) { return identifier_char(c) || c == '.' || c == '-'; });
  if (!schema.file_name.ends_with(extension) || schema.file_name.size() == extension.size() || !safe_name) {
    throw UsageError(
        fmt::format("{}: --format {} needs a {} file named with letters, digits, '_', '-' and '.' (e.g. order{})", flag,
                    format, extension, extension));
  }
  schema.content = read_bounded(format, path);
  if (format == "protobuf") {
    schema.message = proto_message(schema, message, flag);
    return schema;
  }
  std::string problem;
  schema.message = avro_record_name(schema.content, problem);
  if (schema.message.empty()) throw UsageError(fmt::format("{}: {}", flag, problem));
  // The build embeds the text in a raw string literal delimited by )avsc".
  if (schema.content.find(")avsc\"") != std::string::npos) {
    throw UsageError(
        fmt::format("{}: contains )avsc\": remove it (the build embeds the schema in R\"avsc(...)avsc\")", flag));
  }
  if (!message.empty() && message != schema.message) {
    throw UsageError(fmt::format("--message {}: {} declares the record {}; give that name or leave --message out",
                                 message, schema.file_name, schema.message));
  }
  return schema;
}

}  // namespace new_kernel
