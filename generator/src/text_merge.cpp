#include "text_merge.hpp"

#include "git_library.hpp"

namespace new_kernel {

namespace {

git_merge_file_input input_of(std::string_view content) {
  git_merge_file_input input = GIT_MERGE_FILE_INPUT_INIT;
  input.ptr = content.data();
  input.size = content.size();
  return input;
}

}  // namespace

MergeResult merge_three_way(std::string_view base, std::string_view ours, std::string_view theirs,
                            const std::string& our_label, const std::string& their_label) {
  const git::Library library;
  const auto ancestor_input = input_of(base);
  const auto our_input = input_of(ours);
  const auto their_input = input_of(theirs);
  git_merge_file_options options = GIT_MERGE_FILE_OPTIONS_INIT;
  options.our_label = our_label.c_str();
  options.their_label = their_label.c_str();
  git_merge_file_result result{};
  git::check(git_merge_file(&result, &ancestor_input, &our_input, &their_input, &options), "merging");
  MergeResult merged{std::string(result.ptr != nullptr ? result.ptr : "", result.len), result.automergeable == 0};
  git_merge_file_result_free(&result);
  return merged;
}

namespace {

const char* git_mode(unsigned mode) { return (mode & 0100) != 0 ? "100755" : "100644"; }

/// git's header lines for the modes, which libgit2's diff of two buffers cannot know.
std::string with_modes(std::string diff, const std::optional<std::string>& before,
                       const std::optional<std::string>& after, unsigned before_mode, unsigned after_mode) {
  const auto first_line = diff.find('\n');
  if (first_line == std::string::npos) return diff;
  if (!before && after && after_mode != 0) {
    const std::string created = "new file mode 100644\n";
    const auto at = diff.find(created, first_line);
    if (at != std::string::npos)
      diff.replace(at, created.size(), fmt::format("new file mode {}\n", git_mode(after_mode)));
  } else if (before && after && before_mode != 0 && after_mode != 0 &&
             std::string_view(git_mode(before_mode)) != git_mode(after_mode)) {
    diff.insert(first_line + 1, fmt::format("old mode {}\nnew mode {}\n", git_mode(before_mode), git_mode(after_mode)));
  }
  return diff;
}

}  // namespace

std::string unified_diff(const std::optional<std::string>& before, const std::optional<std::string>& after,
                         const std::string& before_path, const std::string& after_path, unsigned before_mode,
                         unsigned after_mode) {
  if (before == after) {
    if (!before || before_mode == 0 || after_mode == 0 ||
        std::string_view(git_mode(before_mode)) == git_mode(after_mode)) {
      return {};
    }
    return fmt::format("diff --git a/{} b/{}\nold mode {}\nnew mode {}\n", before_path, after_path,
                       git_mode(before_mode), git_mode(after_mode));
  }
  const git::Library library;
  git_diff_options options = GIT_DIFF_OPTIONS_INIT;
  git_patch* raw = nullptr;
  // A null buffer is a side that does not exist: libgit2 prints /dev/null for it.
  git::check(
      git_patch_from_buffers(&raw, before ? before->data() : nullptr, before ? before->size() : 0, before_path.c_str(),
                             after ? after->data() : nullptr, after ? after->size() : 0, after_path.c_str(), &options),
      "diff");
  const git::Ptr<git_patch> patch(raw);
  git_buf text = GIT_BUF_INIT;
  git::check(git_patch_to_buf(&text, patch.get()), "printing a diff");
  std::string diff(text.ptr != nullptr ? text.ptr : "", text.size);
  git_buf_dispose(&text);
  return with_modes(std::move(diff), before, after, before_mode, after_mode);
}

bool has_conflict_markers(std::string_view content) noexcept {
  std::size_t start = 0;
  while (start < content.size()) {
    const auto end = content.find('\n', start);
    const auto line = content.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (line.starts_with("<<<<<<< ") || line.starts_with(">>>>>>> ")) return true;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return false;
}

bool uses_crlf(std::string_view content) noexcept {
  bool any = false;
  for (std::size_t at = content.find('\n'); at != std::string_view::npos; at = content.find('\n', at + 1)) {
    if (at == 0 || content[at - 1] != '\r') return false;
    any = true;
  }
  return any;
}

std::string crlf_to_lf(std::string_view content) {
  std::string text;
  text.reserve(content.size());
  for (std::size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\r' && i + 1 < content.size() && content[i + 1] == '\n') continue;
    text += content[i];
  }
  return text;
}

std::string lf_to_crlf(std::string_view content) {
  std::string text;
  text.reserve(content.size() + content.size() / 32);
  for (std::size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\n' && (i == 0 || content[i - 1] != '\r')) text += '\r';
    text += content[i];
  }
  return text;
}

}  // namespace new_kernel
