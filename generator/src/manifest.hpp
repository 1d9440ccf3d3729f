#pragma once
/// What a generation records in the repository, so a later upgrade can tell the user's edits
/// from the template's without the old template version and without git:
///
///   .new-kernel/manifest.json   schema, generator and template versions, the answers, and per
///                               file its path, template id, policy and SHA-256
///   .new-kernel/base/<sha256>   the content last generated, once per distinct content
///
/// Both are plain rendered files, written by the same all-or-nothing writer as the rest.
/// Deterministic: sorted keys, files sorted by path, no timestamps, trailing newline.
#include <string>
#include <string_view>
#include <vector>

#include "answers.hpp"
#include "render.hpp"
#include "template_set.hpp"

namespace new_kernel {

inline constexpr std::string_view manifest_path = ".new-kernel/manifest.json";
inline constexpr std::string_view base_directory = ".new-kernel/base";
/// Bumped when a reader of the manifest would misread the new form (fields added: no bump).
inline constexpr int manifest_schema = 1;

/// Lowercase hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

/// Where the base copy of content with this SHA-256 lives: `.new-kernel/base/<sha256>`.
std::string base_path(std::string_view sha256);

/// "built-in", or the canonical path of the --templates directory `templates` came from.
std::string template_source_of(const TemplateSet& templates);

/// The manifest of `files` as a rendered file (pretty JSON, stable order, trailing newline).
/// `preserved`: a JSON object of fields this new-kernel does not know, read from the manifest
/// it rewrites (GeneratedKernel::preserved_fields), written back where known fields leave room.
RenderedFile make_manifest(const TemplateSet& templates, const Answers& answers, const std::vector<RenderedFile>& files,
                           const Versions& versions, const std::string& preserved = {});

/// The files a generation adds to `files`: one base copy per distinct content (sorted by
/// hash), then the manifest.
std::vector<RenderedFile> generation_record(const TemplateSet& templates, const Answers& answers,
                                            const std::vector<RenderedFile>& files, const Versions& versions);

}  // namespace new_kernel
