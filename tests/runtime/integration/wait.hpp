#pragma once
// Waiting on a condition with a deadline: the tests' only way to wait for the kernel.
#include <chrono>
#include <thread>

namespace testwait {

// How long a second member may take to join a group that already has one, and the rebalance
// to settle. The mock broker holds a rebalance for about a session timeout, and on a loaded
// machine a join request can time out once and be sent again (seen: 38 s): generous, as it
// only costs time when something is already slow.
inline constexpr std::chrono::milliseconds kRejoinTimeout = std::chrono::seconds(90);

template <class Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a condition with a deadline
  }
  return condition();
}

}  // namespace testwait
