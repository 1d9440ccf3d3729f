#pragma once
/// A kernel generated earlier, as its .new-kernel/ records it (see manifest.hpp): the answers,
/// and per file what was generated last (the base of a three-way merge). Everything read is
/// untrusted: paths must stay inside the kernel, hashes are checked, sizes are bounded.
///
/// A manifest of the previous format (no "schema", no base store) is migrated in memory: a
/// file whose hash still matches is unedited, so its content is the base; an edited file's
/// base is the re-rendered template when this new-kernel still embeds the recorded template
/// version, else empty (the merge then marks every difference). `notes` says which.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "answers.hpp"
#include "render.hpp"
#include "template_set.hpp"

namespace new_kernel {

/// Where a file's base came from.
enum class BaseOrigin {
  stored,       ///< .new-kernel/base/<sha256>
  unedited,     ///< migrated: the file on disk still has the recorded hash
  re_rendered,  ///< migrated: the embedded template of the recorded version, rendered again
  empty,        ///< migrated: unknown; merged against nothing
};

struct RecordedFile {
  std::string path;
  std::string template_id;
  Policy policy = Policy::managed;
  std::string sha256;  ///< of the content last generated
  bool executable = false;
  std::optional<std::string> base;  ///< that content; nullopt only for a deleted file never recoverable
  BaseOrigin base_origin = BaseOrigin::stored;
};

struct GeneratedKernel {
  std::filesystem::path root;
  int schema = 0;  ///< 0: the previous format (migrated)
  std::string generator_version;
  std::string template_name;
  std::string template_version;
  /// Where the templates of the last generation came from: "built-in", or the canonical path
  /// of a --templates directory ("" in manifests written before it was recorded).
  std::string template_source;
  Answers answers;
  std::vector<std::string> unanswered;  ///< questions the manifest has no answer for
  std::vector<RecordedFile> files;      ///< sorted by path
  std::vector<std::string> notes;       ///< one line per migrated or recovered file
  /// "PATH (.new-kernel/base/SHA missing)" per file whose stored base copy is missing or
  /// damaged: an upgrade's files were not all committed (check fails on it).
  std::vector<std::string> missing_bases;
  /// The manifest's fields this new-kernel does not know (a newer one wrote them), as a JSON
  /// object ("" when none): kept when the manifest is rewritten.
  std::string preserved_fields;
};

/// Largest manifest read (a kernel's is a few kilobytes).
inline constexpr std::size_t max_manifest_size = std::size_t{4} * 1024 * 1024;

/// Reads and validates `root`/.new-kernel/manifest.json and the base store. `built_in` is the
/// template set embedded in this binary (for migration), `versions` this binary's.
/// Throws NotAKernelError (66) with one line naming the problem and what to do.
GeneratedKernel load_generated_kernel(const std::filesystem::path& root, const TemplateSet& built_in,
                                      const Versions& versions);

/// The answer names a manifest records, in the order they are asked.
const std::vector<std::string>& answer_names();

/// Sets one answer from text (`--set key=value`; topics comma-separated; an empty output
/// topic means none). Throws UsageError for an unknown key.
void set_answer(Answers& answers, const std::string& key, const std::string& value);

}  // namespace new_kernel
