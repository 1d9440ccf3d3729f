#pragma once
/// .new-kernel/manifest.json: which template made the repository, with which answers, and per
/// file its template id, policy and SHA-256, so a later upgrade can tell the user's edits
/// from the template's.
#include <string>
#include <string_view>
#include <vector>

#include "answers.hpp"
#include "render.hpp"
#include "template_set.hpp"

namespace new_kernel {

inline constexpr std::string_view manifest_path = ".new-kernel/manifest.json";

/// Lowercase hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

/// The manifest of `files` as a rendered file (pretty JSON, stable order, trailing newline).
RenderedFile make_manifest(const TemplateSet& templates, const Answers& answers,
                           const std::vector<RenderedFile>& files, const Versions& versions);

}  // namespace new_kernel
