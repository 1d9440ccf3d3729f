#pragma once
// Shared by the loop's source files (kernel_loop, startup, delivery, partitions): not a
// public header.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "loop/kernel_loop.hpp"

namespace kernel::detail {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace kernel::detail
