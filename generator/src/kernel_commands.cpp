#include "kernel_commands.hpp"

#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <kernel/config.hpp>

#include "config/registry.hpp"

#include "errors.hpp"
#include "generated_kernel.hpp"
#include "git_repository.hpp"
#include "kernel_files.hpp"
#include "manifest.hpp"
#include "prompt.hpp"
#include "repository_writer.hpp"
#include "template_set.hpp"
#include "text_merge.hpp"
#include "upgrade_guards.hpp"
#include "upgrade_plan.hpp"

namespace new_kernel {

namespace {

struct Options {
  std::string directory = ".";
  std::string templates_directory;
  bool dry_run = false;
  bool show_diff = false;
  bool allow_dirty = false;
  bool allow_downgrade = false;
  bool no_stage = false;
  std::vector<std::string> settings;  ///< --set key=value
  std::string template_path;          ///< diff --template PATH
  AnswerChange change_answers;        ///< add, remove: applied to the recorded answers before --set
};

TemplateSet templates_of(const Options& options) {
  return options.templates_directory.empty() ? TemplateSet::built_in()
                                             : TemplateSet::from_directory(options.templates_directory);
}

/// The questions the manifest has no answer for (new questions of the templates) that apply.
std::vector<const Question*> new_questions(const Answers& answers, const std::set<std::string>& unanswered,
                                           const Patterns& patterns) {
  std::vector<const Question*> found;
  for (const auto* question : missing_questions(answers, patterns)) {
    if (unanswered.contains(std::string(question->key))) found.push_back(question);
  }
  return found;
}

/// The recorded answers, with --set applied and any missing answer asked (terminal) or
/// named (exit 64). `may_ask` is false for check, which never stops.
Answers answers_for(const GeneratedKernel& kernel, const TemplateSet& templates, const Options& options, bool may_ask) {
  Answers answers = kernel.answers;
  if (options.change_answers) options.change_answers(answers);
  std::set<std::string> unanswered(kernel.unanswered.begin(), kernel.unanswered.end());
  for (const auto& setting : options.settings) {
    const auto equals = setting.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw UsageError(fmt::format("--set {}: expected KEY=VALUE (e.g. --set dlq_topic=orders.dlq)", setting));
    }
    const auto key = setting.substr(0, equals);
    // The schema is read and copied only at generation: an upgrade cannot bring one in.
    if (key == "format" || key == "schema" || key == "message") {
      throw UsageError(
          fmt::format("--set {}: the message format and schema are chosen when a kernel is generated (new-kernel NAME "
                      "--format protobuf --schema FILE); to change the schema, edit the kernel's schemas/",
                      key));
    }
    set_answer(answers, key, setting.substr(equals + 1));
    unanswered.erase(key);
  }
  const auto& patterns = templates.manifest().patterns;
  const auto asked = new_questions(answers, unanswered, patterns);
  if (!asked.empty() && may_ask && interactive_terminal()) {
    // On a terminal every new question is asked, each with its default.
    for (const auto* question : asked) {
      if (!ask(std::cin, std::cerr, *question, answers, patterns)) {
        throw UsageError("no answer (end of input): nothing was written");
      }
    }
  } else {
    // Otherwise new questions take their defaults; only those without one stop the upgrade.
    std::vector<std::string> missing;
    std::string example;
    for (const auto* question : asked) {
      if (!question->required_without_terminal) continue;
      missing.emplace_back(question->key);
      example += fmt::format(" --set {}=VALUE", question->key);
    }
    if (!missing.empty()) {
      throw UsageError(fmt::format("{} has no answer for {} (new questions of the templates): give them with{}",
                                   manifest_path, joined(missing), example));
    }
  }
  answers.directory = kernel.root;
  try {
    return complete_and_check(answers, templates.manifest().patterns);
  } catch (const UsageError& error) {
    throw UsageError(
        fmt::format("{}\n(the answers come from {}; correct one with --set KEY=VALUE)", error.what(), manifest_path));
  }
}

void print_line(const PlannedFile& file) {
  const auto what = file.action == FileAction::rename ? fmt::format("{} -> {}", file.from, file.path) : file.path;
  std::cout << fmt::format("{:<12} {}{}\n", name_of(file.action), what,
                           file.detail.empty() ? "" : fmt::format(" ({})", file.detail));
}

/// Leaves files with markers or .new files (an earlier upgrade's conflicts) where they are:
/// merging again would stack a second set of markers.
void refuse_unresolved(const GeneratedKernel& kernel) {
  const auto unresolved = unresolved_files(kernel);
  if (unresolved.empty()) return;
  throw GeneratorError(exit_code::unresolved,
                       fmt::format("unresolved conflicts of an earlier upgrade in {}: resolve the markers, remove "
                                   "the .new files and commit, then upgrade again; nothing was written",
                                   joined(unresolved)));
}

int upgrade(const Options& options, const Versions& versions) {
  const auto templates = templates_of(options);
  const auto kernel = load_generated_kernel(options.directory, TemplateSet::built_in(), versions);
  refuse_unresolved(kernel);
  if (const auto downgrade = downgrade_of(kernel, templates); downgrade && !options.allow_downgrade) {
    throw RefusedError(
        fmt::format("{}: the kernel is newer than these templates; use a newer new-kernel (or "
                    "--templates DIR), or pass --allow-downgrade to go back; nothing was written",
                    *downgrade));
  }
  if (const auto warning = other_source_warning(kernel, templates)) std::cerr << *warning << "\n";
  const auto answers = answers_for(kernel, templates, options, true);
  const auto rendered = render_repository(templates, answers, kernel::config_registry(), versions);

  if (!options.dry_run && !options.allow_dirty) {
    std::vector<std::string> managed{std::string(manifest_path)};
    for (const auto& file : kernel.files) {
      if (file.policy == Policy::managed) managed.push_back(file.path);
    }
    auto dirty = uncommitted_paths(kernel.root, managed);
    if (!dirty.empty()) {
      constexpr std::size_t shown = 5;  // one line, even for a kernel nobody committed yet
      const auto more = dirty.size() > shown ? fmt::format(" and {} more", dirty.size() - shown) : "";
      dirty.resize(std::min(dirty.size(), shown));
      throw RefusedError(
          fmt::format("uncommitted changes to {}{}: commit or stash them first (or pass "
                      "--allow-dirty to merge into them anyway); nothing was written",
                      joined(dirty), more));
    }
  }

  const auto plan = plan_upgrade(kernel, templates, answers, rendered, versions);
  const auto& to = templates.manifest();
  if (kernel.template_name == to.name && kernel.template_version == to.version) {
    std::cout << fmt::format("{}: template {} {} (the kernel's version)\n", answers.name, to.name, to.version);
  } else {
    std::cout << fmt::format("{}: template {} {} -> {} {}{}\n", answers.name, kernel.template_name,
                             kernel.template_version, to.name, to.version,
                             to.changes.empty() ? "" : fmt::format(": {}", to.changes));
    // A jump across versions: every change note in between, oldest first.
    if (kernel.template_name == to.name) {
      for (const auto& [version, changes] : to.history) {
        if (compare_versions(version, kernel.template_version) == 1 && compare_versions(version, to.version) == -1) {
          std::cout << fmt::format("  also in {} {}: {}\n", to.name, version, changes);
        }
      }
    }
  }
  if (kernel.schema == 0) {
    std::cout << fmt::format("migrating {} from the previous format (no base copies were stored):\n", manifest_path);
  }
  for (const auto& note : kernel.notes) std::cout << "  " << note << "\n";
  for (const auto& file : plan.files) {
    if (!options.dry_run && file.action == FileAction::unchanged && file.detail.empty()) continue;
    print_line(file);
    if (options.show_diff) {
      std::cout << unified_diff(file.before, file.after, file.from.empty() ? file.path : file.from, file.path,
                                file.before_mode, file.after_mode);
    }
  }
  for (const auto& notice : plan.notices) std::cout << "notice: " << notice << "\n";

  const auto conflicts = plan.conflicts();
  std::size_t changed = 0;
  for (const auto& file : plan.files) {
    changed += file.action != FileAction::unchanged && file.action != FileAction::kept_deleted &&
               !(file.action == FileAction::conflict && !file.before);  // a rename's second line
  }
  if (options.dry_run) {
    std::cout << fmt::format("dry run: {} file(s) would change, {} conflict(s); nothing was written\n", changed,
                             conflicts);
  } else {
    update_repository(kernel.root, plan.changes, TestHooks::from_environment());
    // Staged, so that the commit the docs say (git commit -am) takes the new files and base
    // copies too. A file left with conflicts is not: git diff shows it until it is resolved.
    bool staged = false;
    if (!options.no_stage && !plan.changes.empty()) {
      std::set<std::string> conflicted;
      for (const auto& file : plan.files) {
        if (file.action == FileAction::conflict) conflicted.insert(file.path);
      }
      std::vector<std::string> paths;
      for (const auto& change : plan.changes) {
        if (!conflicted.contains(change.path) && !change.path.ends_with(".new")) paths.push_back(change.path);
      }
      staged = stage_paths(kernel.root, paths);
    }
    if (plan.changes.empty()) {
      std::cout << "nothing to do: the kernel is current\n";
    } else if (conflicts > 0) {
      std::cout << fmt::format(
          "upgraded with {} conflict(s): resolve the markers (and the .new files), then "
          "commit; new-kernel check says when none are left\n",
          conflicts);
    } else if (changed == 0) {
      std::cout << fmt::format("no file changed; {} now records template {} {}\n", manifest_path, to.name, to.version);
    } else {
      std::cout << fmt::format("upgraded: {} file(s) changed; {}\n", changed,
                               staged ? "staged: review with git diff --staged, then git commit"
                                      : "review with git diff, then git add -A and commit");
    }
  }
  return conflicts > 0 ? exit_code::conflicts : exit_code::ok;
}

int check(const Options& options, const Versions& versions) {
  const auto templates = templates_of(options);
  const auto kernel = load_generated_kernel(options.directory, TemplateSet::built_in(), versions);

  // Left over from an upgrade: markers or .new files. They come first: resolve, then upgrade.
  const auto unresolved = unresolved_files(kernel);
  if (!unresolved.empty()) {
    std::cout << fmt::format(
        "unresolved upgrade conflicts in {}: resolve the markers, remove the .new files, then "
        "commit\n",
        joined(unresolved));
    return exit_code::unresolved;
  }
  // An upgrade's base copies a commit left out: the next upgrade would merge against nothing.
  if (!kernel.missing_bases.empty()) {
    std::cout << fmt::format(
        "base copies missing: {}: commit every file an upgrade writes (git add -A), or restore .new-kernel/ "
        "from where the upgrade ran\n",
        joined(kernel.missing_bases));
    return exit_code::not_a_kernel;
  }
  if (const auto downgrade = downgrade_of(kernel, templates)) {
    std::cout << fmt::format("the kernel is newer than these templates: {}; use a newer new-kernel\n", *downgrade);
    return exit_code::refused;
  }
  if (const auto warning = other_source_warning(kernel, templates)) std::cerr << *warning << "\n";

  Answers answers;
  try {
    answers = answers_for(kernel, templates, options, false);
  } catch (const UsageError& error) {
    std::cout << fmt::format("upgrade available to template {} {}, needing answers: {}\n", templates.manifest().name,
                             templates.manifest().version, error.what());
    return exit_code::conflicts;
  }
  const auto rendered = render_repository(templates, answers, kernel::config_registry(), versions);
  // Content decides, never a version number: what the templates make now against the bases.
  std::map<std::string, const RecordedFile*> recorded;
  for (const auto& file : kernel.files) recorded.emplace(file.template_id, &file);
  std::vector<std::string> changed;
  for (const auto& file : rendered) {
    const auto found = recorded.find(file.template_id);
    if (found == recorded.end() || found->second->path != file.path ||
        found->second->sha256 != sha256_hex(file.content) || found->second->executable != file.executable) {
      changed.push_back(file.path);
    }
    if (found != recorded.end()) recorded.erase(found);
  }
  for (const auto& [id, file] : recorded) changed.push_back(file->path + " (dropped)");
  if (!changed.empty()) {
    std::cout << fmt::format("upgrade available: template {} {} -> {} {} changes {}: run new-kernel upgrade\n",
                             kernel.template_name, kernel.template_version, templates.manifest().name,
                             templates.manifest().version, joined(changed));
    return exit_code::conflicts;
  }
  std::cout << fmt::format("up to date with template {} {}; no conflicts left\n", templates.manifest().name,
                           templates.manifest().version);
  return exit_code::ok;
}

int diff(const Options& options, const Versions& versions) {
  const auto kernel = load_generated_kernel(options.directory, TemplateSet::built_in(), versions);
  if (options.template_path.empty()) {
    // The team's edits: what was last generated against what is on disk.
    bool any = false;
    for (const auto& file : kernel.files) {
      const auto on_disk = read_kernel_file(kernel.root, file.path, true);
      if (on_disk && on_disk->large()) {
        // Too large to show: only whether it changed.
        if (*on_disk->large_sha256 != file.sha256) {
          std::cout << fmt::format("{}: larger than {} MiB, changed since generated (not shown)\n", file.path,
                                   max_kernel_file_size >> 20);
          any = true;
        }
        continue;
      }
      std::optional<std::string> now;
      if (on_disk) now = on_disk->content;
      if (!file.base) continue;  // deleted before its content was ever stored: nothing to show
      const auto diff = unified_diff(file.base, now, file.path, file.path);
      any |= !diff.empty();
      std::cout << diff;
    }
    // On stderr, so that `new-kernel diff > edits.patch` still writes an empty patch.
    if (!any) std::cerr << "no edits since the kernel was last generated\n";
    return exit_code::ok;
  }
  const auto templates = templates_of(options);
  const auto answers = answers_for(kernel, templates, options, false);
  const auto rendered = render_repository(templates, answers, kernel::config_registry(), versions);
  const RecordedFile* recorded = nullptr;
  for (const auto& file : kernel.files) {
    if (file.path == options.template_path) recorded = &file;
  }
  const RenderedFile* now = nullptr;
  for (const auto& file : rendered) {
    if (file.path == options.template_path || (recorded && file.template_id == recorded->template_id)) now = &file;
  }
  if (recorded == nullptr && now == nullptr) {
    throw UsageError(fmt::format("--template {}: not a file of this kernel or of its templates (see {})",
                                 options.template_path, manifest_path));
  }
  std::optional<std::string> before = recorded ? recorded->base : std::nullopt;
  std::optional<std::string> after;
  if (now) after = now->content;
  const auto diff =
      unified_diff(before, after, recorded ? recorded->path : now->path, now ? now->path : recorded->path);
  std::cout << diff;
  if (diff.empty()) {
    std::cerr << fmt::format("the templates have not changed {} since it was last generated\n", options.template_path);
  }
  return exit_code::ok;
}

}  // namespace

int upgrade_with_answers(const AnswerUpgrade& request, const Versions& versions) {
  Options options;
  options.directory = request.directory;
  options.templates_directory = request.templates_directory;
  options.dry_run = request.dry_run;
  options.show_diff = request.show_diff;
  options.allow_dirty = request.allow_dirty;
  options.change_answers = request.change;
  // As every command on a kernel: an upgrade killed while applying is finished first.
  for (const auto& line : finish_interrupted_updates(options.directory)) std::cerr << "new-kernel: " << line << "\n";
  return upgrade(options, versions);
}

bool is_kernel_command(std::string_view word) noexcept {
  return word == "upgrade" || word == "check" || word == "diff";
}

int run_kernel_command(int argc, char** argv, const Versions& versions) {
  const std::string command = argv[0];
  Options options;
  CLI::App app{command == "upgrade" ? "Carries a generated kernel forward to the current templates, keeping every "
                                      "edit: three-way merges, conflicts marked, written all or nothing."
               : command == "check" ? "For CI: exit 0 when the kernel is current and no conflict is left, 1 when an "
                                      "upgrade is available, 2 when conflict markers or .new files remain, 66 "
                                      "when base copies are missing, 73 when the kernel is newer than the templates."
                                    : "Shows the team's edits since the kernel was last generated, or (--template "
                                      "PATH) what the templates changed in one file since then.",
               "new-kernel " + command};
  app.add_option("DIR", options.directory, "the kernel's directory [.]");
  app.add_option("--templates", options.templates_directory,
                 "compare with this template directory instead of the built-in templates")
      ->type_name("DIR");
  if (command == "upgrade") {
    app.add_flag("-n,--dry-run", options.dry_run, "print what each file would become; write nothing");
    app.add_flag("--diff", options.show_diff, "with each file, the unified diff of what changes");
    app.add_option("--set", options.settings,
                   "answer a question: KEY=VALUE (name, pattern, input_topics, "
                   "output_topic, description, dlq_topic, consumer_group, settings, outputs)")
        ->type_name("KEY=VALUE");
    app.footer(
        "Answers --set takes: name, pattern, input_topics (comma-separated), output_topic (empty: none), "
        "description, dlq_topic, consumer_group, settings (NAME=TYPE[:DEFAULT[:DESCRIPTION]] separated by ';') "
        "and outputs (NAME=TOPIC separated by ','). settings and outputs replace the whole list (the recorded one "
        "is in .new-kernel/manifest.json); new-kernel add setting|output and new-kernel remove setting|output "
        "change one.\nExample:\n  new-kernel upgrade --set 'settings=BATCH_SIZE=int:100:rows per insert;"
        "API_KEY=secret::key of the pricing API' --set 'outputs=audit=orders.audit'");
    app.add_flag("--allow-dirty", options.allow_dirty, "merge even into managed files with uncommitted changes");
    app.add_flag("--allow-downgrade", options.allow_downgrade,
                 "go back to templates older than the kernel's (refused otherwise, exit 73)");
    app.add_flag("--no-stage", options.no_stage,
                 "in a git repository, leave what the upgrade wrote unstaged (it is staged otherwise)");
  }
  if (command == "diff") {
    app.add_option("--template", options.template_path, "the templates' change to this file since it was generated")
        ->type_name("PATH");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& done) {
    return app.exit(done);  // --help
  } catch (const CLI::ParseError& error) {
    // `new-kernel upgrade --topic orders` meant a kernel named "upgrade": say why not.
    for (int i = 1; i < argc; ++i) {
      const std::string_view argument = argv[i];
      for (const std::string_view option : {"-t", "--topic", "-o", "--output-topic", "-p", "--pattern", "-g", "--group",
                                            "--dlq-topic", "-d", "--description", "--dir", "--no-git"}) {
        if (argument == option ||
            (argument.starts_with(option) && argument.size() > option.size() && argument[option.size()] == '=')) {
          throw UsageError(
              fmt::format("name \"{}\" is a new-kernel command (upgrade, check, diff, add, remove): choose another "
                          "kernel name (e.g. {}-kernel); see new-kernel {} --help for the command",
                          command, command, command));
        }
      }
    }
    throw UsageError(fmt::format("{}: {} (see new-kernel {} --help)", command, error.what(), command));
  }
  // An upgrade killed while applying is finished first, whatever the command: until then the
  // tree is half old, half new.
  for (const auto& line : finish_interrupted_updates(options.directory)) std::cerr << "new-kernel: " << line << "\n";
  if (command == "upgrade") return upgrade(options, versions);
  if (command == "check") return check(options, versions);
  return diff(options, versions);
}

}  // namespace new_kernel
