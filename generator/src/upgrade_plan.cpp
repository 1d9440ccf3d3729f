#include "upgrade_plan.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "errors.hpp"
#include "kernel_files.hpp"
#include "manifest.hpp"
#include "text_merge.hpp"

namespace new_kernel {

namespace fs = std::filesystem;

namespace {

mode_t current_umask() {
  const auto mask = ::umask(022);
  ::umask(mask);
  return mask;
}

/// Permission bits with the executable bits following the read bits (like git's 644/755).
mode_t with_executable(mode_t mode, bool executable) {
  return executable ? (mode | ((mode & 0444) >> 2)) : (mode & ~mode_t{0111});
}

/// A file's SHA-256, streamed for a large one.
std::string hash_of(const KernelFile& file) { return file.large() ? *file.large_sha256 : sha256_hex(file.content); }

/// What the plan shows of a file: nothing for a large one (compared by hash, never shown).
std::optional<std::string> shown(const KernelFile& file) {
  return file.large() ? std::nullopt : std::optional<std::string>(file.content);
}

bool is_base_name(std::string_view name) {
  return name.size() == 64 &&
         std::all_of(name.begin(), name.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

class Planner {
 public:
  Planner(const GeneratedKernel& kernel, const TemplateSet& templates)
      : kernel_(kernel),
        new_mode_(0666 & ~current_umask() & 0666),
        our_label_(fmt::format("yours (template {} {})", kernel.template_name, kernel.template_version)),
        their_label_(fmt::format("template {} {}", templates.manifest().name, templates.manifest().version)) {}

  /// A template file the kernel did not have.
  void added(const RenderedFile& t) {
    const auto o = read(t.path);
    record(t.path, t);
    if (!o) {
      write(t.path, t.content, with_executable(new_mode_, t.executable), std::nullopt);
      planned(FileAction::create, t.path, std::nullopt, t.content);
      plan_.files.back().after_mode = with_executable(new_mode_, t.executable);
      return;
    }
    if (hash_of(*o) == sha256_hex(t.content)) {
      planned(FileAction::unchanged, t.path, shown(*o), shown(*o));
    } else if (t.policy == Policy::user) {
      planned(FileAction::unchanged, t.path, shown(*o), shown(*o));
      notice(
          "{}: the template now has this file (policy user), yours is kept: new-kernel diff --template {} "
          "shows the template's",
          t.path, t.path);
    } else {
      // Added by both: nothing in common to start from.
      refuse_large(*o, t.path);
      resolve(t.path, t.path, *o, t, std::string(), o->executable(), FileAction::merge);
    }
  }

  /// A kernel file the template no longer has.
  void dropped(const RecordedFile& b) {
    const auto o = read(b.path);
    if (!o) return;  // already gone
    if (b.policy == Policy::user) {
      planned(FileAction::unchanged, b.path, shown(*o), shown(*o));
      notice("{}: the template no longer has this file (policy user): yours is kept and no longer tracked", b.path);
    } else if (hash_of(*o) == b.sha256) {
      remove(b.path);
      planned(FileAction::remove, b.path, shown(*o), std::nullopt);
    } else {
      planned(FileAction::unchanged, b.path, shown(*o), shown(*o));
      notice("{}: the template dropped this file; you edited it, so it is kept and no longer tracked", b.path);
    }
  }

  /// A file both have (same template id), perhaps at a new path.
  void both(const RecordedFile& b, const RenderedFile& t) {
    auto o = read(b.path);
    const bool template_changed = sha256_hex(t.content) != b.sha256;
    if (t.policy == Policy::user) {
      // The user's: never changed, never moved. (A file the template now manages merges:
      // its policy is the template's to declare.)
      record(b.path, t);
      if (!o) {
        planned(FileAction::kept_deleted, b.path, std::nullopt, std::nullopt);
      } else {
        planned(FileAction::unchanged, b.path, shown(*o), shown(*o));
      }
      if (b.path != t.path) {
        notice("{}: the template renamed it to {} (policy user): yours stays where it is", b.path, t.path);
      } else if (template_changed && b.base) {
        // The change itself, now: once the upgrade is written the base is the new render, and
        // new-kernel diff --template has nothing left to show.
        notice("{}: yours (policy user), changed by the template; its change, to apply by hand if you want it:\n{}",
               b.path, unified_diff(b.base, t.content, b.path, b.path));
      } else if (template_changed) {
        notice("{}: yours (policy user), changed by the template: new-kernel diff --template {} shows it", b.path,
               b.path);
      }
      return;
    }
    if (!o) {
      record(t.path, t);
      planned(FileAction::kept_deleted, b.path, std::nullopt, std::nullopt);
      if (template_changed) {
        notice(
            "{}: deleted by you, changed by the template: it stays deleted (new-kernel diff --template {} "
            "shows the change)",
            b.path, b.path);
      }
      return;
    }
    if (b.path != t.path && read(t.path)) {
      // Something is already where the template moved it: two files, each on its own.
      dropped(b);
      added(t);
      return;
    }
    record(t.path, t);
    if (o->large()) {
      // Compared by hash, never merged: kept while only the team changed it, replaced while
      // only the template did.
      if (!template_changed && b.path == t.path) {
        planned(FileAction::unchanged, b.path, std::nullopt, std::nullopt);
        return;
      }
      refuse_large(*o, b.path, *o->large_sha256 == b.sha256);
      if (b.path != t.path) remove(b.path);
      write(t.path, t.content, with_executable(o->mode, t.executable), std::nullopt);
      plan_.files.push_back({b.path != t.path ? FileAction::rename : FileAction::update, t.path,
                             b.path != t.path ? b.path : std::string(), "larger than 16 MiB, unedited", std::nullopt,
                             t.content});
      return;
    }
    // The hashes decide first: a migrated base may be unknown (empty) while its hash is not.
    const auto& base = sha256_hex(o->content) == b.sha256 ? o->content
                       : !template_changed                ? t.content
                       : b.base                           ? *b.base
                                                          : empty_;
    const bool executable = o->executable() == b.executable ? t.executable : o->executable();
    if (b.path != t.path) remove(b.path);
    resolve(b.path, t.path, *o, t, base, executable, b.path != t.path ? FileAction::rename : FileAction::merge);
  }

  /// .new-kernel/: the manifest of `manifest_files` and exactly their base copies.
  void record_state(const TemplateSet& templates, const Answers& answers, const Versions& versions) {
    std::map<std::string, const std::string*> wanted;
    for (const auto& file : manifest_files_) wanted.emplace(sha256_hex(file.content), &file.content);
    for (const auto& [sha256, content] : wanted) write(base_path(sha256), *content, new_mode_, std::nullopt);
    const auto directory = kernel_.root / base_directory;
    std::error_code error;
    if (fs::is_directory(fs::symlink_status(directory, error))) {
      for (const auto& entry : fs::directory_iterator(directory)) {
        const auto name = entry.path().filename().string();
        if (is_base_name(name) && !wanted.contains(name) && entry.is_regular_file()) {
          remove(base_path(name));
        }
      }
    }
    const auto manifest = make_manifest(templates, answers, manifest_files_, versions, kernel_.preserved_fields);
    write(manifest.path, manifest.content, new_mode_, std::nullopt);
  }

  UpgradePlan take() {
    std::sort(plan_.files.begin(), plan_.files.end(),
              [](const PlannedFile& a, const PlannedFile& b) { return a.path < b.path; });
    return std::move(plan_);
  }

 private:
  /// The file as the plan leaves it so far: a file the plan deletes is gone.
  std::optional<KernelFile> read(const std::string& path) {
    if (removed_.contains(path)) return std::nullopt;
    return read_kernel_file(kernel_.root, path, true);
  }

  void record(const std::string& path, const RenderedFile& t) {
    manifest_files_.push_back({path, t.template_id, t.policy, t.content, t.executable});
  }

  /// Decides O against T (with `base` as B) and plans the result at `to`.
  void resolve(const std::string& from, const std::string& to, const KernelFile& o, const RenderedFile& t,
               const std::string& base, bool executable, FileAction merge_action) {
    const auto mode = with_executable(o.mode, executable);
    // Line ends apart from content: a file an editor turned to CRLF merges as LF, then is
    // written back with CRLF, so the conversion alone is never a conflict.
    const bool crlf = uses_crlf(o.content) && !uses_crlf(t.content) && !is_binary(o.content);
    const std::string ours = crlf ? crlf_to_lf(o.content) : o.content;
    std::string result;
    FileAction action = merge_action == FileAction::rename ? FileAction::rename : FileAction::unchanged;
    std::string detail;
    bool conflict = false;
    if (ours == t.content || t.content == base) {
      result = ours;
      if (t.content == base && ours != base) detail = "your edits kept";
    } else if (ours == base) {
      result = t.content;
      if (action != FileAction::rename) action = FileAction::update;
    } else if (is_binary(base) || is_binary(o.content) || is_binary(t.content)) {
      result = ours;
      conflict = true;
      write(to + ".new", t.content, with_executable(new_mode_, t.executable), std::nullopt);
      detail = fmt::format("binary, not merged: the template's version is {}.new", to);
    } else {
      auto merged = merge_three_way(base, ours, t.content, our_label_, their_label_);
      result = std::move(merged.content);
      conflict = merged.conflicted;
      if (action != FileAction::rename) action = FileAction::merge;
      if (conflict) detail = "conflict markers written";
      if (base.empty()) detail += detail.empty() ? "against an empty base" : " (against an empty base)";
    }
    if (crlf) {
      result = lf_to_crlf(result);
      if (result != o.content) detail += detail.empty() ? "CRLF line ends kept" : "; CRLF line ends kept";
    }
    if (mode != o.mode) {
      if (action == FileAction::unchanged) action = FileAction::update;
      detail += fmt::format("{}executable bit {}", detail.empty() ? "" : "; ", executable ? "set" : "cleared");
    }
    if (from != to || result != o.content || mode != o.mode) write(to, result, mode, o.content);
    if (conflict && action != FileAction::rename) action = FileAction::conflict;
    PlannedFile file{action, to, from != to ? from : std::string(), detail, o.content, result, o.mode, mode};
    plan_.files.push_back(file);
    if (conflict && action == FileAction::rename) {
      plan_.files.push_back({FileAction::conflict, to, std::string(), detail, std::nullopt, std::nullopt});
    }
  }

  /// A file too large to merge that would need merging (`unedited` false) stops the upgrade.
  static void refuse_large(const KernelFile& o, const std::string& path, bool unedited = false) {
    if (!o.large() || unedited) return;
    throw RefusedError(fmt::format(
        "{} is larger than {} MiB and both you and the templates changed it: too large to merge; move it away "
        "(new-kernel then writes the template's), upgrade, and merge your version back by hand",
        path, max_kernel_file_size >> 20));
  }

  void write(const std::string& path, const std::string& content, mode_t mode,
             const std::optional<std::string>& known) {
    if (!known) {
      const auto current = read(path);
      if (current && !current->large() && current->content == content && current->mode == mode) return;
      if (current) mode = with_executable(current->mode, (mode & 0100) != 0);
    }
    plan_.changes.push_back({path, content, mode});
  }

  void remove(const std::string& path) {
    removed_.insert(path);
    plan_.changes.push_back({path, std::nullopt, 0});
  }

  void planned(FileAction action, const std::string& path, std::optional<std::string> before,
               std::optional<std::string> after) {
    plan_.files.push_back({action, path, std::string(), std::string(), std::move(before), std::move(after)});
  }

  template <class... Args>
  void notice(fmt::format_string<Args...> format, Args&&... args) {
    plan_.notices.push_back(fmt::format(format, std::forward<Args>(args)...));
  }

  const GeneratedKernel& kernel_;
  mode_t new_mode_;
  std::string our_label_, their_label_;
  std::vector<RenderedFile> manifest_files_;
  UpgradePlan plan_;
  std::set<std::string> removed_;
  const std::string empty_;
};

}  // namespace

std::string_view name_of(FileAction action) noexcept {
  switch (action) {
    case FileAction::create: return "create";
    case FileAction::update: return "update";
    case FileAction::merge: return "merge";
    case FileAction::conflict: return "CONFLICT";
    case FileAction::rename: return "rename";
    case FileAction::remove: return "delete";
    case FileAction::kept_deleted: return "kept deleted";
    case FileAction::unchanged: return "unchanged";
  }
  return "unchanged";
}

std::size_t UpgradePlan::conflicts() const noexcept {
  return static_cast<std::size_t>(std::count_if(
      files.begin(), files.end(), [](const PlannedFile& file) { return file.action == FileAction::conflict; }));
}

UpgradePlan plan_upgrade(const GeneratedKernel& kernel, const TemplateSet& templates, const Answers& answers,
                         const std::vector<RenderedFile>& rendered, const Versions& versions) {
  Planner planner(kernel, templates);
  std::map<std::string, const RenderedFile*> by_template;
  for (const auto& file : rendered) by_template.emplace(file.template_id, &file);
  // Files the templates dropped first: a renamed file may move to where one of them was.
  std::set<std::string> seen;
  for (const auto& recorded : kernel.files) {
    if (!by_template.contains(recorded.template_id)) planner.dropped(recorded);
  }
  for (const auto& recorded : kernel.files) {
    const auto found = by_template.find(recorded.template_id);
    if (found == by_template.end()) continue;
    planner.both(recorded, *found->second);
    seen.insert(recorded.template_id);
  }
  for (const auto& file : rendered) {
    if (!seen.contains(file.template_id)) planner.added(file);
  }
  planner.record_state(templates, answers, versions);
  return planner.take();
}

}  // namespace new_kernel
