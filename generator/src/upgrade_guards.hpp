#pragma once
/// What stops a command on a generated kernel before it plans anything: conflicts an earlier
/// upgrade left, templates older than the kernel's, base copies a commit left out.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "generated_kernel.hpp"
#include "template_set.hpp"

namespace new_kernel {

/// Files of `kernel` with conflict markers, and `.new` files beside them, left by an upgrade.
std::vector<std::string> unresolved_files(const GeneratedKernel& kernel);

/// -1, 0 or 1 as `a` is below, equal to or above `b` (MAJOR.MINOR.PATCH, numerically; a
/// suffix such as "-rc1" is ignored); nullopt when either is not such a version.
std::optional<int> compare_versions(std::string_view a, std::string_view b);

/// "template kernel 9.0.0 recorded, these templates are kernel 1.7.0" when `templates` are
/// older than what last generated `kernel` (same template name), nullopt otherwise.
std::optional<std::string> downgrade_of(const GeneratedKernel& kernel, const TemplateSet& templates);

/// A warning line when `templates` do not come from where the kernel's last generation's
/// templates came from (built-in or a --templates path), nullopt when they do or it is unknown.
std::optional<std::string> other_source_warning(const GeneratedKernel& kernel, const TemplateSet& templates);

}  // namespace new_kernel
