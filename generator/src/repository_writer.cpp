#include "repository_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "errors.hpp"

namespace new_kernel {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t received_signal = 0;
extern "C" void remember_signal(int signal_number) { received_signal = signal_number; }

/// While alive, SIGINT, SIGTERM and SIGHUP only set a flag that the writer checks between
/// steps, so it can remove what it wrote before exiting with 128 + the signal.
class SignalGuard {
 public:
  SignalGuard() {
    received_signal = 0;
    struct sigaction action {};
    action.sa_handler = remember_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;  // writes and mkdirs continue; we check the flag after each
    for (std::size_t i = 0; i < signals_.size(); ++i) sigaction(signals_[i], &action, &previous_[i]);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;
  ~SignalGuard() {
    for (std::size_t i = 0; i < signals_.size(); ++i) sigaction(signals_[i], &previous_[i], nullptr);
  }
  /// Throws Interrupted if a signal arrived.
  static void check() {
    if (received_signal != 0) throw Interrupted(received_signal);
  }

 private:
  static constexpr std::array<int, 3> signals_{SIGINT, SIGTERM, SIGHUP};
  std::array<struct sigaction, 3> previous_{};
};

/// Removes what was created unless release() is called: the temporary directory and any
/// parent directories of the target that did not exist before.
class Cleanup {
 public:
  Cleanup() = default;
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  ~Cleanup() {
    if (released_) return;
    std::error_code ignored;  // best effort: nothing better to do while already failing
    if (!temporary_.empty()) fs::remove_all(temporary_, ignored);
    for (auto it = created_parents_.rbegin(); it != created_parents_.rend(); ++it) fs::remove(*it, ignored);
  }
  void set_temporary(fs::path path) { temporary_ = std::move(path); }
  void add_parent(fs::path path) { created_parents_.push_back(std::move(path)); }
  void release() noexcept { released_ = true; }

 private:
  fs::path temporary_;
  std::vector<fs::path> created_parents_;
  bool released_ = false;
};

/// Owns a file descriptor; close() reports what the destructor would have to swallow.
class FileDescriptor {
 public:
  explicit FileDescriptor(int descriptor) : descriptor_(descriptor) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (descriptor_ >= 0) ::close(descriptor_);
  }
  int close() noexcept { return ::close(std::exchange(descriptor_, -1)); }

 private:
  int descriptor_;
};

std::optional<std::size_t> positive_number(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr || *value == '\0') return std::nullopt;
  char* end = nullptr;
  const auto number = std::strtoull(value, &end, 10);
  if (*end != '\0' || number == 0) return std::nullopt;
  return static_cast<std::size_t>(number);
}

WriteError write_error(const fs::path& path, int error_number) {
  return WriteError(fmt::format("cannot write {}: {}", path.string(), std::generic_category().message(error_number)));
}

void write_all(int descriptor, const fs::path& path, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto written = ::write(descriptor, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw write_error(path, errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

void wait_for_signal(std::size_t file_number, const std::string& path) {
  std::cerr << "new-kernel: test hook: paused while writing file " << file_number << " (" << path << ")" << std::endl;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (received_signal == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void write_file(const fs::path& root, const RenderedFile& file, std::size_t file_number, const TestHooks& hooks,
                std::optional<mode_t> exact_mode = std::nullopt) {
  const auto path = root / file.path;
  std::error_code error;
  fs::create_directories(path.parent_path(), error);
  if (error) throw write_error(path.parent_path(), error.value());

  // O_EXCL | O_NOFOLLOW: the temporary directory is ours alone; never write through a link.
  const int descriptor =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, file.executable ? 0755 : 0644);
  if (descriptor < 0) throw write_error(path, errno);
  FileDescriptor output{descriptor};

  const std::string_view content = file.content;
  const auto half = content.size() / 2;
  write_all(descriptor, path, content.substr(0, half));
  if (hooks.fail_at_file == file_number) {
    throw WriteError(fmt::format("cannot write {}: {} (injected by NEW_KERNEL_TEST_FAIL_AT_FILE={})", path.string(),
                                 std::generic_category().message(ENOSPC), file_number));
  }
  if (hooks.pause_at_file == file_number) wait_for_signal(file_number, file.path);
  write_all(descriptor, path, content.substr(half));
  // An update keeps a file's permissions as they were (umask aside): fchmod, not open's mode.
  if (exact_mode && ::fchmod(descriptor, *exact_mode) != 0) throw write_error(path, errno);
  if (output.close() != 0) throw write_error(path, errno);  // NFS and quotas report here
}

/// Creates the target's missing parents, remembering them for cleanup.
void create_parents(const fs::path& parent, Cleanup& cleanup) {
  std::vector<fs::path> missing;
  for (auto p = parent; !p.empty() && !fs::exists(p); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    std::error_code error;
    if (!fs::create_directory(*it, error) && error) throw write_error(*it, error.value());
    cleanup.add_parent(*it);
  }
}

}  // namespace

TestHooks TestHooks::from_environment() {
  return {positive_number("NEW_KERNEL_TEST_FAIL_AT_FILE"), positive_number("NEW_KERNEL_TEST_PAUSE_AT_FILE"),
          positive_number("NEW_KERNEL_TEST_FAIL_AT_RENAME"), positive_number("NEW_KERNEL_TEST_KILL_AT_RENAME")};
}

void check_target_is_free(const fs::path& target) {
  std::error_code error;
  const auto status = fs::symlink_status(target, error);
  if (!fs::exists(status)) return;
  if (!fs::is_directory(status)) {
    throw TargetExistsError(fmt::format("{} exists and is not a directory: choose another --dir", target.string()));
  }
  if (!fs::is_empty(target, error) || error) {
    throw TargetExistsError(
        fmt::format("{} exists and is not empty: choose another --dir, or "
                    "remove it first",
                    target.string()));
  }
}

void write_repository(const fs::path& target_in, const std::vector<RenderedFile>& files,
                      const std::function<void(const fs::path&)>& before_rename, const TestHooks& hooks) {
  const auto target = fs::absolute(target_in).lexically_normal();
  const SignalGuard signals;
  Cleanup cleanup;
  check_target_is_free(target);
  create_parents(target.parent_path(), cleanup);

  // A sibling, so the final rename stays on one file system and is atomic.
  auto pattern = (target.parent_path() / fmt::format(".{}.new-kernel-XXXXXX", target.filename().string())).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw write_error(target.parent_path(), errno);
  const fs::path temporary = pattern;
  cleanup.set_temporary(temporary);
  // mkdtemp makes it 0700; the repository gets the usual permissions.
  fs::permissions(temporary, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);

  std::size_t file_number = 0;
  for (const auto& file : files) {
    SignalGuard::check();
    write_file(temporary, file, ++file_number, hooks);
  }
  SignalGuard::check();
  if (before_rename) before_rename(temporary);
  SignalGuard::check();

  // rename(2) replaces an empty directory atomically; a non-empty one fails (ENOTEMPTY)
  // if something appeared there meanwhile.
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    const int error_number = errno;
    if (error_number == ENOTEMPTY || error_number == EEXIST || error_number == ENOTDIR) {
      throw TargetExistsError(fmt::format("{} appeared while writing and is not empty", target.string()));
    }
    throw write_error(target, error_number);
  }
  cleanup.release();
}

namespace {

/// What the commit phase of an update did, so that a failure can undo it in reverse order.
class UpdateJournal {
 public:
  UpdateJournal() = default;
  UpdateJournal(const UpdateJournal&) = delete;
  UpdateJournal& operator=(const UpdateJournal&) = delete;
  ~UpdateJournal() {
    if (committed_) return;
    // Best effort, strictly in reverse: every step only moved or made one entry on one file
    // system, so undoing them in reverse order meets each path as that step left it.
    std::error_code ignored;
    for (auto entry = entries_.rbegin(); entry != entries_.rend(); ++entry) {
      switch (entry->kind) {
        case Kind::moved_aside: ::rename(entry->saved.c_str(), entry->target.c_str()); break;
        case Kind::placed: ::unlink(entry->target.c_str()); break;
        case Kind::directory_created: fs::remove(entry->target, ignored); break;
      }
    }
  }
  void moved_aside(fs::path target, fs::path saved) {
    entries_.push_back({Kind::moved_aside, std::move(target), std::move(saved)});
  }
  void placed(fs::path target) { entries_.push_back({Kind::placed, std::move(target), {}}); }
  void created(fs::path directory) { entries_.push_back({Kind::directory_created, std::move(directory), {}}); }
  void commit() noexcept { committed_ = true; }

 private:
  enum class Kind { moved_aside, placed, directory_created };
  struct Entry {
    Kind kind;
    fs::path target;
    fs::path saved;
  };
  std::vector<Entry> entries_;
  bool committed_ = false;
};

/// Removes the staging directory on every path out.
class StagingDirectory {
 public:
  explicit StagingDirectory(const fs::path& root) {
    auto pattern = (root / ".new-kernel-update-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw write_error(root, errno);
    path_ = pattern;
  }
  StagingDirectory(const StagingDirectory&) = delete;
  StagingDirectory& operator=(const StagingDirectory&) = delete;
  ~StagingDirectory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
};

void create_directories_for(const fs::path& root, const fs::path& target, UpdateJournal& journal) {
  std::vector<fs::path> missing;
  for (auto p = target.parent_path(); p != root && !fs::exists(fs::symlink_status(p)); p = p.parent_path()) {
    missing.push_back(p);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    std::error_code error;
    if (!fs::create_directory(*it, error) && error) throw write_error(*it, error.value());
    journal.created(*it);
  }
}

/// The on-disk journal of an update's commit phase: written, synced and renamed into the
/// staging directory before the first file moves, so a process killed part way leaves what
/// the next command needs to finish the update (finish_interrupted_updates()).
constexpr std::string_view journal_name = "journal";
constexpr std::size_t max_journal_size = std::size_t{8} * 1024 * 1024;

void sync_file(const fs::path& path) {
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor < 0) throw write_error(path, errno);
  FileDescriptor file{descriptor};
  if (::fsync(descriptor) != 0) throw write_error(path, errno);
  if (file.close() != 0) throw write_error(path, errno);
}

void write_journal(const fs::path& staging, const std::vector<FileChange>& changes) {
  auto entries = nlohmann::json::array();
  for (const auto& change : changes) entries.push_back({{"path", change.path}, {"write", change.content.has_value()}});
  const RenderedFile journal{std::string(journal_name) + ".tmp", "", Policy::managed, entries.dump() + "\n"};
  write_file(staging, journal, 0, {});
  sync_file(staging / journal.path);
  if (::rename((staging / journal.path).c_str(), (staging / journal_name).c_str()) != 0) {
    throw write_error(staging / journal_name, errno);
  }
  sync_file(staging);  // the rename itself
}

/// A relative path that stays under the kernel's root and out of .git (.new-kernel/ is
/// written by updates too).
bool inside_the_kernel(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  std::size_t start = 0;
  for (bool first = true; start <= path.size(); first = false) {
    const auto end = std::min(path.find('/', start), path.size());
    const auto component = path.substr(start, end - start);
    if (component.empty() || component == "." || component == ".." || (first && component == ".git")) return false;
    start = end + 1;
  }
  return true;
}

/// Removes the directories a deletion emptied (as git would not keep them).
void remove_emptied_directories(const fs::path& root, const std::vector<std::string>& deleted) {
  for (const auto& path : deleted) {
    std::error_code error;
    for (auto directory = (root / path).parent_path();
         directory != root && directory.native().size() > root.native().size(); directory = directory.parent_path()) {
      if (!fs::is_empty(directory, error) || error || !fs::remove(directory, error)) break;
    }
  }
}

}  // namespace

void update_repository(const fs::path& root_in, const std::vector<FileChange>& changes, const TestHooks& hooks) {
  if (changes.empty()) return;
  const auto root = fs::absolute(root_in).lexically_normal();
  const SignalGuard signals;
  const StagingDirectory staging(root);

  // 1. Every new content beside the tree: a full disk fails here, before anything moved.
  std::size_t file_number = 0;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    SignalGuard::check();
    if (!changes[i].content) continue;
    const RenderedFile staged{fmt::format("new-{}", i), "", Policy::managed, *changes[i].content};
    write_file(staging.path(), staged, ++file_number, hooks, changes[i].mode);
  }
  SignalGuard::check();
  if (::mkdir((staging.path() / "old").c_str(), 0700) != 0) throw write_error(staging.path() / "old", errno);
  write_journal(staging.path(), changes);

  // 2. Each file moved aside, its new content renamed into place; the journal undoes it all
  // unless every step succeeds. Signals wait until the end: this part takes milliseconds.
  UpdateJournal journal;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto target = root / changes[i].path;
    if (hooks.kill_at_rename == i + 1) ::raise(SIGKILL);
    if (hooks.fail_at_rename == i + 1) {
      throw WriteError(fmt::format("cannot write {}: {} (injected by NEW_KERNEL_TEST_FAIL_AT_RENAME={})",
                                   target.string(), std::generic_category().message(EIO), i + 1));
    }
    if (fs::exists(fs::symlink_status(target))) {
      const auto saved = staging.path() / "old" / fmt::format("{}", i);
      if (::rename(target.c_str(), saved.c_str()) != 0) throw write_error(target, errno);
      journal.moved_aside(target, saved);
    }
    if (changes[i].content) {
      create_directories_for(root, target, journal);
      const auto staged = staging.path() / fmt::format("new-{}", i);
      if (::rename(staged.c_str(), target.c_str()) != 0) throw write_error(target, errno);
      journal.placed(target);
    }
  }
  journal.commit();

  std::vector<std::string> deleted;
  for (const auto& change : changes) {
    if (!change.content) deleted.push_back(change.path);
  }
  remove_emptied_directories(root, deleted);
}

std::vector<std::string> finish_interrupted_updates(const fs::path& root_in) {
  const auto root = fs::absolute(root_in).lexically_normal();
  std::vector<std::string> done;
  std::error_code error;
  std::vector<fs::path> staged;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    const auto name = entry.path().filename().string();
    if (name.starts_with(".new-kernel-update-") && entry.is_directory(error) && !entry.is_symlink(error)) {
      staged.push_back(entry.path());
    }
  }
  std::sort(staged.begin(), staged.end());
  for (const auto& staging : staged) {
    const auto journal_path = staging / journal_name;
    const auto size = fs::file_size(journal_path, error);
    if (error) {
      // Killed while staging: nothing of the tree had moved yet.
      fs::remove_all(staging, error);
      if (error) throw write_error(staging, error.value());
      done.push_back(fmt::format("removed {}, left by an upgrade stopped before it changed any file",
                                 staging.filename().string()));
      continue;
    }
    nlohmann::json entries;
    try {
      if (size > max_journal_size) throw std::runtime_error("too large");
      std::ifstream input(journal_path, std::ios::binary);
      entries = nlohmann::json::parse(input);
      if (!entries.is_array()) throw std::runtime_error("not a list");
    } catch (const std::exception& failure) {
      throw WriteError(
          fmt::format("{} is unreadable ({}): an upgrade was interrupted while applying; restore the "
                      "kernel from version control, then remove {}",
                      journal_path.string(), failure.what(), staging.string()));
    }
    // Forward, in the journal's order: each change either was not begun, was moved aside, or
    // was put in place; the staged copy and old/<i> say which.
    std::vector<std::string> deleted;
    std::size_t finished = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto& entry = entries[i];
      if (!entry.is_object() || !entry.contains("path") || !entry["path"].is_string() || !entry.contains("write") ||
          !entry["write"].is_boolean()) {
        throw WriteError(
            fmt::format("{}: entry {} is malformed: restore the kernel from version control, then "
                        "remove {}",
                        journal_path.string(), i, staging.string()));
      }
      const auto path = entry["path"].get<std::string>();
      if (!inside_the_kernel(path)) {
        throw WriteError(fmt::format("{}: entry {} (\"{}\") leaves the kernel: remove {} by hand",
                                     journal_path.string(), i, path, staging.string()));
      }
      const auto target = root / path;
      const auto saved = staging / "old" / fmt::format("{}", i);
      const auto fresh = staging / fmt::format("new-{}", i);
      const bool target_there = fs::exists(fs::symlink_status(target, error));
      const bool saved_there = fs::exists(fs::symlink_status(saved, error));
      const bool writes = entry["write"].get<bool>();
      if (!writes) deleted.push_back(path);
      const bool fresh_there = writes && fs::exists(fs::symlink_status(fresh, error));
      if (writes && !fresh_there) continue;  // put in place before the interruption
      if (!writes && (saved_there || !target_there)) continue;
      if (target_there && !saved_there && ::rename(target.c_str(), saved.c_str()) != 0) {
        throw write_error(target, errno);
      }
      if (writes) {
        fs::create_directories(target.parent_path(), error);
        if (error) throw write_error(target.parent_path(), error.value());
        if (::rename(fresh.c_str(), target.c_str()) != 0) throw write_error(target, errno);
      }
      ++finished;
    }
    remove_emptied_directories(root, deleted);
    fs::remove_all(staging, error);
    if (error) throw write_error(staging, error.value());
    done.push_back(fmt::format("finished an upgrade interrupted while applying ({} of {} change(s) were left)",
                               finished, entries.size()));
  }
  return done;
}

}  // namespace new_kernel
