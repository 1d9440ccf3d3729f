// All or nothing: a refused target, an I/O failure or a signal leaves nothing behind.
#include <doctest/doctest.h>

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>

#include "errors.hpp"
#include "repository_writer.hpp"

namespace repository_writer_test {

using namespace new_kernel;
namespace fs = std::filesystem;

namespace {

/// A fresh directory under the system temporary directory, removed afterwards.
struct Scratch {
  fs::path root;
  Scratch() {
    auto pattern = (fs::temp_directory_path() / "new-kernel-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    root = pattern;
  }
  ~Scratch() { fs::remove_all(root); }
  std::size_t entries() const { return static_cast<std::size_t>(std::distance(fs::directory_iterator(root), {})); }
};

const std::vector<RenderedFile> files{
    {"README.md", "README.md", Policy::user, "# hello\n"},
    {"src/main.cpp", "src/main.cpp", Policy::managed, "int main() {}\n"},
    {"deploy/deep/k.yaml", "deploy/deep/k.yaml", Policy::user, "a: 1\n"},
};

std::string read(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("a repository is written whole") {
  Scratch scratch;
  const auto target = scratch.root / "parent" / "kernel";
  write_repository(target, files, nullptr);
  CHECK(read(target / "src/main.cpp") == "int main() {}\n");
  CHECK(read(target / "deploy/deep/k.yaml") == "a: 1\n");
  CHECK(scratch.entries() == 1);  // no temporary sibling left
  CHECK(std::distance(fs::directory_iterator(target.parent_path()), {}) == 1);
}

TEST_CASE("an existing empty directory is used") {
  Scratch scratch;
  fs::create_directory(scratch.root / "kernel");
  write_repository(scratch.root / "kernel", files, nullptr);
  CHECK(fs::exists(scratch.root / "kernel" / "README.md"));
}

TEST_CASE("a non-empty target is refused and left alone") {
  Scratch scratch;
  fs::create_directory(scratch.root / "kernel");
  std::ofstream(scratch.root / "kernel" / "mine.txt") << "keep";
  CHECK_THROWS_WITH_AS(write_repository(scratch.root / "kernel", files, nullptr),
                       doctest::Contains("exists and is not empty"), TargetExistsError);
  CHECK(read(scratch.root / "kernel" / "mine.txt") == "keep");
  CHECK(scratch.entries() == 1);
}

TEST_CASE("an I/O failure on any file leaves nothing, parents included") {
  for (std::size_t n = 1; n <= files.size(); ++n) {
    CAPTURE(n);
    Scratch scratch;
    TestHooks hooks;
    hooks.fail_at_file = n;
    CHECK_THROWS_WITH_AS(write_repository(scratch.root / "new-parent" / "kernel", files, nullptr, hooks),
                         doctest::Contains("injected by NEW_KERNEL_TEST_FAIL_AT_FILE"), WriteError);
    CHECK(scratch.entries() == 0);
  }
}

TEST_CASE("a failure after the files are written (the first commit) leaves nothing") {
  Scratch scratch;
  CHECK_THROWS_AS(
      write_repository(scratch.root / "kernel", files, [](const fs::path&) { throw WriteError("git: commit failed"); }),
      WriteError);
  CHECK(scratch.entries() == 0);
}

TEST_CASE("a signal while writing leaves nothing and reports 128 + the signal") {
  Scratch scratch;
  try {
    write_repository(scratch.root / "kernel", files, [](const fs::path&) { std::raise(SIGINT); });
    FAIL("expected Interrupted");
  } catch (const Interrupted& interrupted) {
    CHECK(interrupted.exit_code() == 130);
  }
  CHECK(scratch.entries() == 0);
}

namespace {

/// Every regular file under `root` with its bytes and permission bits.
std::map<std::string, std::pair<std::string, fs::perms>> snapshot(const fs::path& root) {
  std::map<std::string, std::pair<std::string, fs::perms>> found;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) {
      found[entry.path().lexically_relative(root).string()] = {read(entry.path()), entry.status().permissions()};
    }
  }
  return found;
}

const std::vector<FileChange> changes{
    {"src/main.cpp", "int main() { return 0; }\n", 0644},  // update
    {"README.md", std::nullopt, 0},                        // delete
    {"new/dir/file.txt", "created\n", 0755},               // create, with directories
    {"deploy/deep/k.yaml", "a: 2\n", 0755},                // update, executable bit set
};

}  // namespace

TEST_CASE("an update changes, creates and deletes files, and leaves no staging behind") {
  Scratch scratch;
  const auto root = scratch.root / "kernel";
  write_repository(root, files, nullptr);
  update_repository(root, changes);
  CHECK(read(root / "src/main.cpp") == "int main() { return 0; }\n");
  CHECK_FALSE(fs::exists(root / "README.md"));
  CHECK(read(root / "new/dir/file.txt") == "created\n");
  CHECK((fs::status(root / "deploy/deep/k.yaml").permissions() & fs::perms::owner_exec) != fs::perms::none);
  CHECK(std::distance(fs::directory_iterator(root), {}) == 3);  // src, deploy, new: nothing staged
}

TEST_CASE("an I/O failure at any point of an update leaves the tree byte for byte as it was") {
  for (std::size_t n = 1; n <= changes.size(); ++n) {
    for (const bool while_renaming : {false, true}) {
      CAPTURE(n);
      CAPTURE(while_renaming);
      Scratch scratch;
      const auto root = scratch.root / "kernel";
      write_repository(root, files, nullptr);
      const auto before = snapshot(root);
      const auto entries_before = std::distance(fs::directory_iterator(root), {});
      TestHooks hooks;
      (while_renaming ? hooks.fail_at_rename : hooks.fail_at_file) = n;
      if (!while_renaming && n == changes.size()) continue;  // three contents to stage, not four
      CHECK_THROWS_AS(update_repository(root, changes, hooks), WriteError);
      CHECK(snapshot(root) == before);
      CHECK(std::distance(fs::directory_iterator(root), {}) == entries_before);
      CHECK_FALSE(fs::exists(root / "new"));
    }
  }
}

TEST_CASE("a failed update that had turned a file into a directory puts the file back") {
  Scratch scratch;
  const auto root = scratch.root / "kernel";
  write_repository(root, files, nullptr);
  const auto before = snapshot(root);
  const std::vector<FileChange> reshape{
      {"README.md", std::nullopt, 0},
      {"README.md/index.md", "# now a directory\n", 0644},
      {"src/main.cpp", "int main() { return 1; }\n", 0644},
  };
  TestHooks hooks;
  hooks.fail_at_rename = 3;
  CHECK_THROWS_AS(update_repository(root, reshape, hooks), WriteError);
  CHECK(fs::is_regular_file(root / "README.md"));
  CHECK(snapshot(root) == before);
  update_repository(root, reshape);
  CHECK(read(root / "README.md/index.md") == "# now a directory\n");
}

}  // namespace repository_writer_test
