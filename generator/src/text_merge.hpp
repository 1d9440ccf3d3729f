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
/// side that does not exist (a created or deleted file). Empty when they are equal. The
/// permission bits, when known (not 0), give the header's modes (100644 or 100755), as git's.
std::string unified_diff(const std::optional<std::string>& before, const std::optional<std::string>& after,
                         const std::string& before_path, const std::string& after_path, unsigned before_mode = 0,
                         unsigned after_mode = 0);

/// Whether `content` has a line starting with a git conflict marker (`<<<<<<< ` or
/// `>>>>>>> `): an unresolved merge.
bool has_conflict_markers(std::string_view content) noexcept;

/// Whether every line of `content` ends in CRLF (at least one does): a file a Windows editor
/// converted, merged as LF and written back as CRLF.
bool uses_crlf(std::string_view content) noexcept;

/// `content` with CRLF line ends as LF, and back.
std::string crlf_to_lf(std::string_view content);
std::string lf_to_crlf(std::string_view content);

}  // namespace new_kernel
