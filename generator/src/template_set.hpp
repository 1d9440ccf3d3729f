#pragma once
/// A template set: a manifest (template.json) and the mustache files it names, either
/// embedded in the binary at build time or read from a directory (--templates DIR).
///
///   template.json                 name, version, changes (one line), patterns, and per file:
///                                 path, language, policy (where each file's policy is declared)
///   <path>.mustache               the template of each file, named as the file it renders
///   patterns/<pattern>/*.mustache partials that differ per pattern ({{> handler_body}})
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "answers.hpp"
#include "escape.hpp"

namespace new_kernel {

enum class Policy {
  managed,  ///< owned by the template: later upgrades may rewrite (merge) it
  user,     ///< owned by the user after the first render (e.g. the handler)
};
std::string_view name_of(Policy policy) noexcept;

struct TemplateFile {
  std::string path;    ///< where it lands, relative to the repository root
  std::string id;      ///< what an upgrade matches it by: its path unless template.json gives "id"
                       ///< (a renamed file keeps its id, so the user's file moves with it)
  std::string source;  ///< its template in the set (path + ".mustache")
  Language language = Language::plain;
  Policy policy = Policy::managed;
  bool executable = false;  ///< written with the executable bit (template.json "executable": true)
};

struct TemplateManifest {
  std::string name;
  std::string version;
  std::string changes;  ///< one line: what this version changed (bumped with every change)
  /// The change notes of earlier versions, oldest first ("history": [{version, changes}]), so
  /// an upgrade across several versions prints every one in between.
  std::vector<std::pair<std::string, std::string>> history;
  std::string description;
  std::vector<PatternInfo> patterns;
  std::vector<TemplateFile> files;
};

class TemplateSet {
 public:
  /// The set compiled into the binary (templates/kernel at build time).
  static TemplateSet built_in();
  /// A set read from a directory. Throws TemplateError if it cannot be read or is invalid.
  static TemplateSet from_directory(const std::filesystem::path& directory);
  /// A set from in-memory files (tests). Throws TemplateError if it is invalid.
  static TemplateSet from_files(std::map<std::string, std::string, std::less<>> files, std::string origin);

  const TemplateManifest& manifest() const noexcept { return manifest_; }
  /// "built-in" or the directory it was read from.
  const std::string& origin() const noexcept { return origin_; }
  /// The text of a file of the set. Throws TemplateError if it is missing.
  const std::string& text(std::string_view source) const;
  /// Partials for a pattern: name (file stem) -> text.
  std::map<std::string, std::string> partials(std::string_view pattern) const;

 private:
  std::map<std::string, std::string, std::less<>> files_;
  std::string origin_;
  TemplateManifest manifest_;
};

/// Whether a path from a manifest stays inside the repository: relative, normalised, no
/// `..`, no empty or `.` component, no backslash, not under `.git/` or `.new-kernel/`.
bool is_safe_relative_path(std::string_view path);

}  // namespace new_kernel
