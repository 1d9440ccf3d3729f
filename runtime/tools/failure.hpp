#pragma once
// How the tools fail: a message and the exit code it stands for, printed by main as one line
// `kernel-admin: message`.
#include <string>

namespace kernel::tools {

/// A failure with the exit code it stands for.
struct Failure {
  int code;
  std::string message;
};

}  // namespace kernel::tools
