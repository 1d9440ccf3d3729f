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
  void* opaque;
};

// Delivery-report opaques are InFlight pointers; the low bit marks a dead letter.
inline void* tag(InFlight* entry, bool dead_letter) {
  return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(entry) | (dead_letter ? 1u : 0u));
}
inline InFlight* untag(void* opaque, bool* dead_letter) {
  const auto bits = reinterpret_cast<std::uintptr_t>(opaque);
  *dead_letter = (bits & 1u) != 0;
  return reinterpret_cast<InFlight*>(bits & ~std::uintptr_t{1});
}

}  // namespace kernel::detail
