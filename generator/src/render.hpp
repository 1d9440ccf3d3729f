#pragma once
/// Renders a template set with the answers into the repository's files, in memory.
#include <string>
#include <vector>

#include <kernel/config.hpp>

#include "config/registry.hpp"

#include "answers.hpp"
#include "template_set.hpp"

namespace new_kernel {

struct RenderedFile {
  std::string path;         ///< relative to the repository root
  std::string template_id;  ///< the manifest entry it came from
  Policy policy = Policy::managed;
  std::string content;
  bool executable = false;  ///< the executable bit, merged apart from the content on upgrade
};

/// Versions that land in the generated files.
struct Versions {
  std::string generator;  ///< new-kernel's own version
  std::string runtime;    ///< the kernel_runtime version the kernel asks for (major.minor)
};

/// Renders every file of the set, in manifest order. `variables` is the runtime's
/// configuration registry (for .env.template). Throws TemplateError if a template does not
/// parse, names a value or partial that does not exist, or renders a path twice.
std::vector<RenderedFile> render_repository(const TemplateSet& templates, const Answers& answers,
                                            const std::vector<kernel::VariableSpec>& variables,
                                            const Versions& versions);

/// Wraps text into lines of at most `width` characters (words are never split).
std::vector<std::string> wrap_words(std::string_view text, std::size_t width);

}  // namespace new_kernel
