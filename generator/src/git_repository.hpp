#pragma once
/// The generated repository's first commit, made with libgit2 (no git executable needed).
#include <filesystem>
#include <optional>
#include <string>

namespace new_kernel {

/// The repository that contains `directory`, if any (a kernel generated inside a monorepo
/// gets no nested repository, as `cargo new` does).
std::optional<std::filesystem::path> enclosing_git_repository(const std::filesystem::path& directory);

/// `git init` and a first commit of every file in `directory`. The author is the user's
/// git identity, or "new-kernel <new-kernel@localhost>" when none is configured.
/// Returns the commit id. Throws WriteError.
std::string initialise_git_repository(const std::filesystem::path& directory, const std::string& message);

}  // namespace new_kernel
