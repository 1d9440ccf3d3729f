#pragma once
// SIGINT/SIGTERM: the first asks the loop to stop; the second exits at once with 128 + signal
// (what was not committed is delivered again). A watchdog bounds the shutdown.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace kernel::detail {

/// Installs the handlers for the lifetime of the object; `on_stop` must be async-signal-safe
/// (an atomic store).
class StopSignals {
 public:
  StopSignals(void (*on_stop)(), const std::string& kernel_name, bool json_logs);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
};

/// Once `stopping()` turns true, gives the process `timeout` to finish, then logs what
/// `describe_left()` says and exits with 1, even if librdkafka hangs.
class ShutdownWatchdog {
 public:
  ShutdownWatchdog(std::function<bool()> stopping, std::chrono::milliseconds timeout, std::function<void()> on_expired);
  ~ShutdownWatchdog();
  ShutdownWatchdog(const ShutdownWatchdog&) = delete;
  ShutdownWatchdog& operator=(const ShutdownWatchdog&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace kernel::detail
