#pragma once
// Waiting on a condition with a deadline: the tests' only way to wait for the kernel.
#include <chrono>
#include <thread>

namespace testwait {

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
