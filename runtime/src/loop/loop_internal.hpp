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

/// A message to send again after a passing failure (the partition waits for it).
struct KernelLoop::Resend {
  Clock::time_point due;
  std::string topic;
  std::int32_t partition;
  std::optional<std::string> key;
  std::string value;
  HeadersPtr headers;
  const Delivery* delivery;
};

}  // namespace kernel::detail
