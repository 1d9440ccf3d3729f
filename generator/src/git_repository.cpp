#include "git_repository.hpp"

#include <set>

#include "git_library.hpp"

namespace new_kernel {

std::optional<std::filesystem::path> enclosing_git_repository(const std::filesystem::path& directory) {
  const git::Library library;
  git_buf found = GIT_BUF_INIT;
  std::optional<std::filesystem::path> repository;
  // Start from the nearest directory that exists: the target and its parents may not yet.
  auto start = std::filesystem::absolute(directory);
  while (!std::filesystem::exists(start) && start != start.parent_path()) start = start.parent_path();
  if (git_repository_discover(&found, start.c_str(), 0, nullptr) == 0) {
    repository = std::filesystem::path(found.ptr).parent_path().parent_path();  // ".../.git/"
  }
  git_buf_dispose(&found);
  return repository;
}

std::string initialise_git_repository(const std::filesystem::path& directory, const std::string& message) {
  const git::Library library;
  git_repository* raw_repository = nullptr;
  git::check(git_repository_init(&raw_repository, directory.c_str(), 0), "init");
  const git::Ptr<git_repository> repository(raw_repository);

  git_index* raw_index = nullptr;
  git::check(git_repository_index(&raw_index, repository.get()), "opening the index");
  const git::Ptr<git_index> index(raw_index);
  git::check(git_index_add_all(index.get(), nullptr, GIT_INDEX_ADD_DEFAULT, nullptr, nullptr), "add");
  git::check(git_index_write(index.get()), "writing the index");
  git_oid tree_id;
  git::check(git_index_write_tree(&tree_id, index.get()), "writing the tree");
  git_tree* raw_tree = nullptr;
  git::check(git_tree_lookup(&raw_tree, repository.get(), &tree_id), "reading the tree");
  const git::Ptr<git_tree> tree(raw_tree);

  git_signature* raw_signature = nullptr;
  if (git_signature_default(&raw_signature, repository.get()) < 0) {
    // No user.name/user.email anywhere: commit anyway, under a name that says who did it.
    git::check(git_signature_now(&raw_signature, "new-kernel", "new-kernel@localhost"), "making a signature");
  }
  const git::Ptr<git_signature> signature(raw_signature);

  git_oid commit_id;
  git::check(git_commit_create_v(&commit_id, repository.get(), "HEAD", signature.get(), signature.get(), nullptr,
                                 message.c_str(), tree.get(), 0),
             "commit");
  char hex[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(hex, sizeof hex, &commit_id);
  return hex;
}

std::vector<std::string> uncommitted_paths(const std::filesystem::path& directory,
                                           const std::vector<std::string>& paths) {
  const git::Library library;
  git_repository* raw_repository = nullptr;
  if (git_repository_open_ext(&raw_repository, directory.c_str(), 0, nullptr) != 0) return {};
  const git::Ptr<git_repository> repository(raw_repository);
  if (git_repository_is_bare(repository.get())) return {};
  const std::filesystem::path workdir = git_repository_workdir(repository.get());
  const auto prefix = std::filesystem::canonical(directory).lexically_relative(std::filesystem::canonical(workdir));

  // One status walk over the kernel's directory, then a lookup per path: git_status_file
  // per path would walk the index again for each.
  std::string spec = prefix == "." ? std::string("*") : (prefix / "*").generic_string();
  char* spec_pointer = spec.data();
  git_status_options options = GIT_STATUS_OPTIONS_INIT;
  options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
  options.pathspec = {&spec_pointer, 1};
  git_status_list* raw_list = nullptr;
  git::check(git_status_list_new(&raw_list, repository.get(), &options), "status");
  const git::Ptr<git_status_list> list(raw_list);

  std::set<std::string> changed;
  for (std::size_t i = 0; i < git_status_list_entrycount(list.get()); ++i) {
    const git_status_entry* entry = git_status_byindex(list.get(), i);
    if (entry->status == GIT_STATUS_CURRENT || (entry->status & GIT_STATUS_IGNORED) != 0) continue;
    for (const git_diff_delta* delta : {entry->head_to_index, entry->index_to_workdir}) {
      if (delta == nullptr) continue;
      for (const char* path : {delta->old_file.path, delta->new_file.path}) {
        if (path != nullptr) changed.insert(path);  // relative to the work tree
      }
    }
  }
  std::vector<std::string> found;
  for (const auto& path : paths) {
    const auto in_repository = prefix == "." ? path : (prefix / path).generic_string();
    if (changed.contains(in_repository)) found.push_back(path);
  }
  return found;
}

bool stage_paths(const std::filesystem::path& directory, const std::vector<std::string>& paths) {
  const git::Library library;
  git_repository* raw_repository = nullptr;
  if (git_repository_open_ext(&raw_repository, directory.c_str(), 0, nullptr) != 0) return false;
  const git::Ptr<git_repository> repository(raw_repository);
  if (git_repository_is_bare(repository.get())) return false;
  const std::filesystem::path workdir = git_repository_workdir(repository.get());
  const auto prefix = std::filesystem::canonical(directory).lexically_relative(std::filesystem::canonical(workdir));

  git_index* raw_index = nullptr;
  git::check(git_repository_index(&raw_index, repository.get()), "opening the index");
  const git::Ptr<git_index> index(raw_index);
  for (const auto& path : paths) {
    const auto in_repository = prefix == "." ? path : (prefix / path).generic_string();
    if (std::filesystem::exists(std::filesystem::symlink_status(directory / path))) {
      git::check(git_index_add_bypath(index.get(), in_repository.c_str()), "add " + path);
    } else if (git_index_get_bypath(index.get(), in_repository.c_str(), 0) != nullptr) {
      git::check(git_index_remove_bypath(index.get(), in_repository.c_str()), "rm --cached " + path);
    }
  }
  git::check(git_index_write(index.get()), "writing the index");
  return true;
}

}  // namespace new_kernel
