#pragma once
/// Three-way merges and unified diffs of file contents, by libgit2 (git's own xdiff), in
/// memory: no repository needed.
#include <optional>
#include <string>
#include <string_view>

namespace new_kernel {

struct MergeResult {
  std::string content;
  bool conflicted = false;  ///< git-style markers were written
};

/// Merges the changes from `base` to `ours` and from `base` to `theirs` (git_merge_file).
/// Conflicts are marked `<<<<<<< our_label`, `=======`, `>>>>>>> their_label`.
MergeResult merge_three_way(std::string_view base, std::string_view ours, std::string_view theirs,
                            const std::string& our_label, const std::string& their_label);

/// A unified diff (`diff --git a/PATH b/PATH` ...) from `before` to `after`; nullopt for a
/// side that does not exist (a created or deleted file). Empty when they are equal.
std::string unified_diff(const std::optional<std::string>& before, const std::optional<std::string>& after,
                         const std::string& before_path, const std::string& after_path);

/// Whether `content` has a line starting with a git conflict marker (`<<<<<<< ` or
/// `>>>>>>> `): an unresolved merge.
bool has_conflict_markers(std::string_view content) noexcept;

}  // namespace new_kernel
