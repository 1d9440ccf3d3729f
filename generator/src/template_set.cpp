#include "template_set.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "embedded_templates.hpp"
#include "errors.hpp"

namespace new_kernel {

namespace {

constexpr std::string_view manifest_file = "template.json";
constexpr std::string_view template_suffix = ".mustache";

std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TemplateError(fmt::format("cannot read template {}", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

Policy policy_from_name(std::string_view name) {
  if (name == "managed") return Policy::managed;
  if (name == "user") return Policy::user;
  throw TemplateError(fmt::format("{}: policy \"{}\" is neither managed nor user", manifest_file, name));
}

TemplateManifest parse_manifest(const std::string& text, const std::string& origin) {
  const auto where = fmt::format("{} ({})", manifest_file, origin);
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    throw TemplateError(fmt::format("{}: not valid JSON: {}", where, error.what()));
  }
  TemplateManifest manifest;
  try {
    manifest.name = document.at("name").get<std::string>();
    manifest.version = document.at("version").get<std::string>();
    manifest.changes = document.value("changes", "");
    manifest.description = document.value("description", "");
    for (const auto& entry : document.value("history", nlohmann::json::array())) {
      manifest.history.emplace_back(entry.at("version").get<std::string>(), entry.at("changes").get<std::string>());
      if (manifest.history.back().second.find_first_of("\r\n") != std::string::npos) {
        throw TemplateError(
            fmt::format("{}: history {}: \"changes\" must be one line", where, manifest.history.back().first));
      }
    }
    for (const auto& pattern : document.at("patterns")) {
      manifest.patterns.push_back({pattern.at("name").get<std::string>(), pattern.value("summary", ""),
                                   pattern.value("needs_output_topic", false)});
    }
    std::set<std::string, std::less<>> seen, ids;
    for (const auto& file : document.at("files")) {
      TemplateFile entry;
      entry.path = file.at("path").get<std::string>();
      entry.source = entry.path + std::string(template_suffix);
      entry.id = file.value("id", entry.path);
      entry.policy = policy_from_name(file.value("policy", "managed"));
      entry.executable = file.value("executable", false);
      try {
        entry.language = language_from_name(file.value("language", "plain"));
      } catch (const std::invalid_argument& error) {
        throw TemplateError(fmt::format("{}: {}: {}", where, entry.path, error.what()));
      }
      if (!is_safe_relative_path(entry.path)) {
        throw TemplateError(fmt::format("{}: file path \"{}\" would land outside the repository or in a reserved place",
                                        where, entry.path));
      }
      if (!seen.insert(entry.path).second) {
        throw TemplateError(fmt::format("{}: file \"{}\" is listed twice", where, entry.path));
      }
      if (!is_safe_relative_path(entry.id) || !ids.insert(entry.id).second) {
        throw TemplateError(
            fmt::format("{}: file \"{}\": id \"{}\" is not a relative path, or is another "
                        "file's id",
                        where, entry.path, entry.id));
      }
      manifest.files.push_back(std::move(entry));
    }
  } catch (const nlohmann::json::exception& error) {
    throw TemplateError(fmt::format("{}: {}", where, error.what()));
  }
  if (manifest.version.empty()) throw TemplateError(fmt::format("{}: \"version\" is empty", where));
  if (manifest.changes.find_first_of("\r\n") != std::string::npos) {
    throw TemplateError(fmt::format("{}: \"changes\" must be one line", where));
  }
  if (manifest.patterns.empty()) throw TemplateError(fmt::format("{}: no patterns", where));
  if (manifest.files.empty()) throw TemplateError(fmt::format("{}: no files", where));
  return manifest;
}

}  // namespace

std::string_view name_of(Policy policy) noexcept { return policy == Policy::user ? "user" : "managed"; }

bool is_safe_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  if (path.find('\\') != std::string_view::npos || path.find('\0') != std::string_view::npos) {
    return false;
  }
  std::size_t start = 0;
  bool first = true;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    const auto component = path.substr(start, end - start);
    if (component.empty() || component == "." || component == "..") return false;
    if (first && (component == ".git" || component == ".new-kernel")) return false;
    first = false;
    start = end + 1;
  }
  return true;
}

TemplateSet TemplateSet::from_files(std::map<std::string, std::string, std::less<>> files, std::string origin) {
  TemplateSet set;
  set.files_ = std::move(files);
  set.origin_ = std::move(origin);
  const auto manifest = set.files_.find(manifest_file);
  if (manifest == set.files_.end()) {
    throw TemplateError(fmt::format("{}: no {} (the template manifest)", set.origin_, manifest_file));
  }
  set.manifest_ = parse_manifest(manifest->second, set.origin_);
  for (const auto& file : set.manifest_.files) {
    if (!set.files_.contains(file.source)) {
      throw TemplateError(
          fmt::format("{}: {} lists {} but {} is missing", set.origin_, manifest_file, file.path, file.source));
    }
  }
  return set;
}

TemplateSet TemplateSet::built_in() {
  std::map<std::string, std::string, std::less<>> files;
  for (const auto& file : embedded_template_files()) {
    files.emplace(std::string(file.path), std::string(file.content));
  }
  return from_files(std::move(files), "built-in");
}

TemplateSet TemplateSet::from_directory(const std::filesystem::path& directory) {
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    throw TemplateError(fmt::format("--templates {}: not a directory", directory.string()));
  }
  std::map<std::string, std::string, std::less<>> files;
  try {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(directory)) {
      if (!entry.is_regular_file()) continue;
      files.emplace(entry.path().lexically_relative(directory).generic_string(), read_whole_file(entry.path()));
    }
  } catch (const std::filesystem::filesystem_error& failure) {
    throw TemplateError(fmt::format("--templates {}: {}", directory.string(), failure.what()));
  }
  return from_files(std::move(files), directory.string());
}

const std::string& TemplateSet::text(std::string_view source) const {
  const auto found = files_.find(source);
  if (found == files_.end()) {
    throw TemplateError(fmt::format("{}: template {} is missing", origin_, source));
  }
  return found->second;
}

std::map<std::string, std::string> TemplateSet::partials(std::string_view pattern) const {
  std::map<std::string, std::string> partials;
  const auto prefix = fmt::format("patterns/{}/", pattern);
  for (const auto& [path, text] : files_) {
    if (!path.starts_with(prefix) || !path.ends_with(template_suffix)) continue;
    const auto name = path.substr(prefix.size(), path.size() - prefix.size() - template_suffix.size());
    if (name.find('/') != std::string::npos) continue;
    partials.emplace(name, text);
  }
  return partials;
}

}  // namespace new_kernel
