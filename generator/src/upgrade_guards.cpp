#include "upgrade_guards.hpp"

#include <array>
#include <charconv>

#include <fmt/format.h>

#include "kernel_files.hpp"
#include "manifest.hpp"
#include "text_merge.hpp"

namespace new_kernel {

std::vector<std::string> unresolved_files(const GeneratedKernel& kernel) {
  std::vector<std::string> unresolved;
  for (const auto& file : kernel.files) {
    // A large file is never merged, so it never has markers of ours.
    const auto on_disk = read_kernel_file(kernel.root, file.path, true);
    if (on_disk && !on_disk->large() && !is_binary(on_disk->content) && has_conflict_markers(on_disk->content)) {
      unresolved.push_back(file.path);
    }
    if (read_kernel_file(kernel.root, file.path + ".new", true)) unresolved.push_back(file.path + ".new");
  }
  return unresolved;
}

namespace {

std::optional<std::array<unsigned long, 3>> parse_version(std::string_view text) {
  std::array<unsigned long, 3> parts{};
  const char* at = text.data();
  const char* end = text.data() + text.size();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      if (at == end || *at != '.') return std::nullopt;
      ++at;
    }
    const auto [next, error] = std::from_chars(at, end, parts[i]);
    if (error != std::errc() || next == at) return std::nullopt;
    at = next;
  }
  if (at != end && *at != '-' && *at != '+') return std::nullopt;
  return parts;
}

}  // namespace

std::optional<int> compare_versions(std::string_view a, std::string_view b) {
  const auto left = parse_version(a);
  const auto right = parse_version(b);
  if (!left || !right) return std::nullopt;
  if (*left == *right) return 0;
  return *left < *right ? -1 : 1;
}

std::optional<std::string> downgrade_of(const GeneratedKernel& kernel, const TemplateSet& templates) {
  const auto& to = templates.manifest();
  if (kernel.template_name != to.name || compare_versions(kernel.template_version, to.version) != 1) {
    return std::nullopt;
  }
  return fmt::format("the kernel records template {} {}, these templates are {} {}", kernel.template_name,
                     kernel.template_version, to.name, to.version);
}

std::optional<std::string> other_source_warning(const GeneratedKernel& kernel, const TemplateSet& templates) {
  const auto now = template_source_of(templates);
  if (kernel.template_source.empty() || kernel.template_source == now) return std::nullopt;
  auto describe = [](const std::string& source) {
    return source == "built-in" ? std::string("the templates built into new-kernel")
                                : fmt::format("the templates in {}", source);
  };
  return fmt::format("warning: the kernel was last generated from {}; this run uses {}",
                     describe(kernel.template_source), describe(now));
}

}  // namespace new_kernel
