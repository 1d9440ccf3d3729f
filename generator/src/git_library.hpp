#pragma once
// libgit2 as new-kernel's files use it: its global state for the length of one operation, one
// deleter for every handle type it holds, and its failures as WriteError (exit 74).
#include <memory>
#include <string_view>

#include <fmt/format.h>
#include <git2.h>

#include "errors.hpp"

namespace new_kernel::git {

/// libgit2's global state, for the lifetime of one operation.
class Library {
 public:
  Library() { git_libgit2_init(); }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  ~Library() { git_libgit2_shutdown(); }
};

/// One deleter per libgit2 type, so every handle is released on every path.
struct Deleter {
  void operator()(git_repository* p) const noexcept { git_repository_free(p); }
  void operator()(git_index* p) const noexcept { git_index_free(p); }
  void operator()(git_tree* p) const noexcept { git_tree_free(p); }
  void operator()(git_signature* p) const noexcept { git_signature_free(p); }
  void operator()(git_status_list* p) const noexcept { git_status_list_free(p); }
  void operator()(git_patch* p) const noexcept { git_patch_free(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, Deleter>;

/// Throws WriteError naming `what` and libgit2's own message when `result` is an error.
inline void check(int result, std::string_view what) {
  if (result >= 0) return;
  const git_error* error = git_error_last();
  throw WriteError(fmt::format("git: {} failed: {}", what, error != nullptr ? error->message : "unknown error"));
}

}  // namespace new_kernel::git
