#include "kernel_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>
#include <system_error>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "errors.hpp"

namespace new_kernel {

namespace fs = std::filesystem;

namespace {

struct Closer {
  explicit Closer(int fd) : descriptor(fd) {}
  int descriptor;
  Closer(const Closer&) = delete;
  Closer& operator=(const Closer&) = delete;
  ~Closer() { ::close(descriptor); }
};

/// The SHA-256 of what `descriptor` reads to its end (a file too large to hold in memory).
std::string stream_sha256(int descriptor, const fs::path& path) {
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    throw WriteError("SHA-256 failed (OpenSSL EVP_DigestInit_ex)");
  }
  char buffer[65536];
  while (true) {
    const auto got = ::read(descriptor, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      throw WriteError(fmt::format("cannot read {}: {}", path.string(), std::generic_category().message(errno)));
    }
    if (got == 0) break;
    if (EVP_DigestUpdate(context.get(), buffer, static_cast<std::size_t>(got)) != 1) {
      throw WriteError("SHA-256 failed (OpenSSL EVP_DigestUpdate)");
    }
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1) {
    throw WriteError("SHA-256 failed (OpenSSL EVP_DigestFinal_ex)");
  }
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace

std::optional<KernelFile> read_kernel_file(const fs::path& root, std::string_view relative, bool large_as_hash) {
  // Walk down one component at a time: a link anywhere (a parent directory included) could
  // point outside the kernel.
  fs::path path = root;
  const fs::path whole{std::string(relative)};
  auto component = whole.begin();
  struct stat status {};
  while (component != whole.end()) {
    path /= *component;
    ++component;
    if (::lstat(path.c_str(), &status) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
      throw WriteError(fmt::format("cannot read {}: {}", path.string(), std::generic_category().message(errno)));
    }
    if (S_ISLNK(status.st_mode)) {
      throw RefusedError(
          fmt::format("{} is a symbolic link: new-kernel never follows links in a kernel; "
                      "replace it with a regular {}",
                      path.lexically_relative(root).string(), component == whole.end() ? "file" : "directory"));
    }
    if (component != whole.end() && !S_ISDIR(status.st_mode)) return std::nullopt;
  }
  if (!S_ISREG(status.st_mode)) {
    throw RefusedError(
        fmt::format("{} is not a regular file: move it away, then run the command again", std::string(relative)));
  }
  if (static_cast<std::size_t>(status.st_size) > max_kernel_file_size && large_as_hash) {
    const int descriptor = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (descriptor < 0) {
      throw WriteError(fmt::format("cannot read {}: {}", path.string(), std::generic_category().message(errno)));
    }
    const Closer closing{descriptor};
    KernelFile file;
    file.mode = status.st_mode & 07777;
    file.large_sha256 = stream_sha256(descriptor, path);
    return file;
  }
  if (static_cast<std::size_t>(status.st_size) > max_kernel_file_size) {
    throw RefusedError(
        fmt::format("{} is larger than {} MiB: new-kernel only handles source files; "
                    "move it away, then run the command again",
                    std::string(relative), max_kernel_file_size >> 20));
  }
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (descriptor < 0)
    throw WriteError(fmt::format("cannot read {}: {}", path.string(), std::generic_category().message(errno)));
  KernelFile file;
  file.mode = status.st_mode & 07777;
  char buffer[65536];
  while (true) {
    const auto got = ::read(descriptor, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int error = errno;
      ::close(descriptor);
      throw WriteError(fmt::format("cannot read {}: {}", path.string(), std::generic_category().message(error)));
    }
    if (got == 0) break;
    file.content.append(buffer, static_cast<std::size_t>(got));
    if (file.content.size() > max_kernel_file_size) {
      ::close(descriptor);
      throw RefusedError(
          fmt::format("{} grew beyond {} MiB while being read", std::string(relative), max_kernel_file_size >> 20));
    }
  }
  ::close(descriptor);
  return file;
}

bool is_binary(std::string_view content) noexcept {
  return content.substr(0, 8000).find('\0') != std::string_view::npos;
}

}  // namespace new_kernel
