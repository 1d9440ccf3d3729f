#pragma once
/// Reading a generated kernel's files without trusting them: paths come from its manifest,
/// so every component is checked with lstat (a link is never followed, so nothing outside
/// the kernel is read or written), and sizes are bounded.
#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace new_kernel {

/// Largest file an upgrade reads (a kernel's sources are kilobytes; this is far beyond).
inline constexpr std::size_t max_kernel_file_size = std::size_t{16} * 1024 * 1024;

struct KernelFile {
  std::string content;  ///< empty for a large file
  mode_t mode = 0644;   ///< permission bits as on disk
  /// Set, instead of `content`, for a file larger than max_kernel_file_size read with
  /// `large_as_hash`: its SHA-256 (lowercase hex), computed while streaming it.
  std::optional<std::string> large_sha256;
  bool executable() const noexcept { return (mode & 0100) != 0; }
  bool large() const noexcept { return large_sha256.has_value(); }
};

/// The file at `relative` (checked with is_safe_relative_path by the caller) under `root`,
/// or nullopt when it or a parent directory does not exist. Throws RefusedError when a
/// component is a symbolic link, the path is not a regular file, or it is too large (unless
/// `large_as_hash`: then a large file comes back as its hash); throws WriteError when it cannot
/// be read.
std::optional<KernelFile> read_kernel_file(const std::filesystem::path& root, std::string_view relative,
                                           bool large_as_hash = false);

/// Whether `content` is binary: a NUL byte in its first 8000 bytes (git's own test).
bool is_binary(std::string_view content) noexcept;

}  // namespace new_kernel
