#pragma once
/// The generator's failures, each with the exit code docs/generator.md gives it. main()
/// catches GeneratorError, prints what() (one line per problem) and returns exit_code().
#include <stdexcept>
#include <string>
#include <vector>

namespace new_kernel {

namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int conflicts = 1;       ///< upgrade: merged with conflicts; check: upgrade available
inline constexpr int unresolved = 2;      ///< check: conflict markers or .new files left
inline constexpr int usage = 64;          ///< bad command line, name, topic or value
inline constexpr int bad_template = 65;   ///< a template that cannot render
inline constexpr int not_a_kernel = 66;   ///< no readable, valid .new-kernel/manifest.json
inline constexpr int target_exists = 73;  ///< the target exists and is not empty
inline constexpr int refused = 73;        ///< upgrade refused (uncommitted changes, a link)
inline constexpr int io_error = 74;       ///< an I/O error while writing
inline constexpr int interrupted = 130;   ///< SIGINT (143 for SIGTERM): 128 + the signal
}  // namespace exit_code

/// The items a message lists (missing files, unknown names), separated by ", ".
inline std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

class GeneratorError : public std::runtime_error {
 public:
  GeneratorError(int exit_code, const std::string& message) : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

/// A command line or answer the generator refuses (64).
class UsageError : public GeneratorError {
 public:
  explicit UsageError(const std::string& message) : GeneratorError(exit_code::usage, message) {}
};

/// A template set that cannot be read, parsed or rendered (65).
class TemplateError : public GeneratorError {
 public:
  explicit TemplateError(const std::string& message) : GeneratorError(exit_code::bad_template, message) {}
};

/// Not a generated kernel: the manifest is missing, unreadable or invalid (66).
class NotAKernelError : public GeneratorError {
 public:
  explicit NotAKernelError(const std::string& message) : GeneratorError(exit_code::not_a_kernel, message) {}
};

/// An upgrade that would lose work: uncommitted changes, a link where a file belongs (73).
class RefusedError : public GeneratorError {
 public:
  explicit RefusedError(const std::string& message) : GeneratorError(exit_code::refused, message) {}
};

/// The target directory exists and is not empty (73).
class TargetExistsError : public GeneratorError {
 public:
  explicit TargetExistsError(const std::string& message) : GeneratorError(exit_code::target_exists, message) {}
};

/// Writing the repository failed (74).
class WriteError : public GeneratorError {
 public:
  explicit WriteError(const std::string& message) : GeneratorError(exit_code::io_error, message) {}
};

/// Stopped by a signal; nothing was left behind (128 + the signal).
class Interrupted : public GeneratorError {
 public:
  explicit Interrupted(int signal_number)
      : GeneratorError(128 + signal_number, "interrupted; nothing was written"), signal_number_(signal_number) {}
  int signal_number() const noexcept { return signal_number_; }

 private:
  int signal_number_;
};

}  // namespace new_kernel
