#pragma once
// Shared by the loop's source files: not a public header.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace kernel::detail {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace kernel::detail
