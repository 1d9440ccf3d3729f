#pragma once
/// The plan of an upgrade, made entirely in memory: per file, with B the content last
/// generated (the base), O the file on disk and T the new render (docs/generator.md, "Upgrade"):
///
///   O == B: take T (delete when the template dropped it)   T == B: keep O   O == T: nothing
///   all three differ: three-way merge (git_merge_file), conflicts marked with both versions
///   O missing, B known: the user deleted it: it stays deleted (a notice if T changed)
///   same template id, new path: the file moves, then merges
///   added by the template where the user has a file: merged against an empty base
///   binary: never merged; T is written as PATH.new and the file counts as a conflict
///   executable bit: O's when the user changed it, else T's
///   policy `user`: never changed; a notice when T differs from B
///
/// Then the manifest and the base store: every file's base becomes its new render. The plan
/// holds the changes for update_repository(); applying it is all or nothing.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "generated_kernel.hpp"
#include "render.hpp"
#include "repository_writer.hpp"
#include "template_set.hpp"

namespace new_kernel {

enum class FileAction { create, update, merge, conflict, rename, remove, kept_deleted, unchanged };

/// `create`, `update`, `merge`, `CONFLICT`, `rename`, `delete`, `kept deleted`, `unchanged`.
std::string_view name_of(FileAction action) noexcept;

struct PlannedFile {
  FileAction action = FileAction::unchanged;
  std::string path;                   ///< where the file is after the upgrade
  std::string from;                   ///< rename: where it was
  std::string detail;                 ///< why, when the action alone does not say it
  std::optional<std::string> before;  ///< on disk now (at `from` for a rename)
  std::optional<std::string> after;   ///< on disk after the upgrade
  unsigned before_mode = 0;           ///< permission bits of `before` (0: not known)
  unsigned after_mode = 0;            ///< and of `after`
};

struct UpgradePlan {
  std::vector<PlannedFile> files;    ///< sorted by path
  std::vector<std::string> notices;  ///< not conflicts: a user file the template changed, ...
  std::vector<FileChange> changes;   ///< every write and deletion, .new-kernel/ included
  std::size_t conflicts() const noexcept;
};

/// Plans the upgrade of `kernel` to `rendered` (the templates rendered with `answers`).
/// Reads the files on disk; writes nothing. Throws RefusedError for a link in the way.
UpgradePlan plan_upgrade(const GeneratedKernel& kernel, const TemplateSet& templates, const Answers& answers,
                         const std::vector<RenderedFile>& rendered, const Versions& versions);

}  // namespace new_kernel
