#pragma once
/// Writes a rendered repository all or nothing: into a temporary sibling of the target, then
/// one rename. A failure, a refused target or SIGINT/SIGTERM/SIGHUP leaves nothing behind.
#include <sys/types.h>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "render.hpp"

namespace new_kernel {

/// Test hooks, read from the environment by main() and documented in docs/generator.md:
///   NEW_KERNEL_TEST_FAIL_AT_FILE=N   writing the Nth file fails like a full disk (exit 74)
///   NEW_KERNEL_TEST_PAUSE_AT_FILE=N  halfway through the Nth file, say so on stderr and wait
///                                    up to 60 s for a signal (to test SIGINT deterministically)
///   NEW_KERNEL_TEST_FAIL_AT_RENAME=N an update's Nth change put in place fails, after the
///                                    ones before it were (the rollback must undo them)
///   NEW_KERNEL_TEST_KILL_AT_RENAME=N the process kills itself (SIGKILL) before an update's
///                                    Nth change (the next command must finish the update)
struct TestHooks {
  std::optional<std::size_t> fail_at_file;
  std::optional<std::size_t> pause_at_file;
  std::optional<std::size_t> fail_at_rename;
  std::optional<std::size_t> kill_at_rename;
  static TestHooks from_environment();
};

/// Throws TargetExistsError if `target` exists and is not an empty directory.
void check_target_is_free(const std::filesystem::path& target);

/// Writes `files` under `target`. `before_rename` runs on the complete temporary directory
/// (the first commit is made there). Throws TargetExistsError, WriteError or Interrupted;
/// in every case nothing is left behind, including parent directories it created.
void write_repository(const std::filesystem::path& target, const std::vector<RenderedFile>& files,
                      const std::function<void(const std::filesystem::path&)>& before_rename,
                      const TestHooks& hooks = {});

/// One file of an update to an existing repository.
struct FileChange {
  std::string path;                    ///< relative to the root, checked by the caller
  std::optional<std::string> content;  ///< nullopt: delete the file
  mode_t mode = 0644;                  ///< permission bits of the written file
};

/// Applies `changes` to the existing repository at `root`, all or nothing: every new content
/// is first written beside the tree (a temporary directory inside `root`); then each file is
/// moved aside and its new content renamed into place; a failure at any point moves every
/// file back, so the tree is left byte for byte as it was. Directories a deletion empties are
/// removed. Throws WriteError or Interrupted.
void update_repository(const std::filesystem::path& root, const std::vector<FileChange>& changes,
                       const TestHooks& hooks = {});

/// Finishes the updates of `root` a killed process left half applied (a staging directory
/// with its journal: every new content was already written there), and removes staging
/// directories of updates stopped before anything moved. Returns one line per directory
/// handled. Throws WriteError.
std::vector<std::string> finish_interrupted_updates(const std::filesystem::path& root);

}  // namespace new_kernel
