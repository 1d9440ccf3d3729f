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

std::string unified_diff(const std::optional<std::string>& before, const std::optional<std::string>& after,
                         const std::string& before_path, const std::string& after_path) {
  if (before == after) return {};
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
  return diff;
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

}  // namespace new_kernel
