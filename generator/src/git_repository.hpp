#pragma once
/// The generated repository's first commit, made with libgit2 (no git executable needed).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace new_kernel {

/// The repository that contains `directory`, if any (a kernel generated inside a monorepo
/// gets no nested repository, as `cargo new` does).
std::optional<std::filesystem::path> enclosing_git_repository(const std::filesystem::path& directory);

/// `git init` and a first commit of every file in `directory`. The author is the user's
/// git identity, or "new-kernel <new-kernel@localhost>" when none is configured.
/// Returns the commit id. Throws WriteError.
std::string initialise_git_repository(const std::filesystem::path& directory, const std::string& message);

/// Of `paths` (relative to `directory`), those with changes git has not committed (staged,
/// unstaged, or untracked) when `directory` is inside a git work tree; empty otherwise.
std::vector<std::string> uncommitted_paths(const std::filesystem::path& directory,
                                           const std::vector<std::string>& paths);

/// `git add` (or `git rm --cached` for a path no longer on disk) of `paths`, relative to
/// `directory`, when `directory` is inside a git work tree. Returns false when it is not.
/// Throws WriteError.
bool stage_paths(const std::filesystem::path& directory, const std::vector<std::string>& paths);

}  // namespace new_kernel
