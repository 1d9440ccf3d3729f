#pragma once
/// The template set compiled into the binary. The definition is generated at build time from
/// templates/kernel by generator/cmake/embed_templates.cmake.
#include <span>
#include <string_view>

namespace new_kernel {

struct EmbeddedFile {
  std::string_view path;  ///< relative to templates/kernel
  std::string_view content;
};

std::span<const EmbeddedFile> embedded_template_files() noexcept;

}  // namespace new_kernel
