#include "run/signals.hpp"

#include <unistd.h>

#include <csignal>
#include <cstring>

namespace kernel::detail {

namespace {
std::atomic<int> signals_received{0};
void (*stop_callback)() = nullptr;

void on_signal(int signal_number) {
  if (signals_received.fetch_add(1) > 0) {
    static const char message[] = "second signal: exiting now; uncommitted messages will be delivered again\n";
    (void)!write(STDERR_FILENO, message, sizeof message - 1);
    _exit(128 + signal_number);
  }
  if (stop_callback) stop_callback();
}
}  // namespace

StopSignals::StopSignals(void (*on_stop)()) {
  stop_callback = on_stop;
  signals_received.store(0);
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

StopSignals::~StopSignals() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  stop_callback = nullptr;
}

bool StopSignals::received() noexcept { return signals_received.load() > 0; }

ShutdownWatchdog::ShutdownWatchdog(std::function<bool()> stopping, std::chrono::milliseconds timeout,
                                   std::function<void()> on_expired) {
  thread_ = std::thread([this, stopping = std::move(stopping), timeout, on_expired = std::move(on_expired)] {
    // Checks a flag every 50 ms: the flag is set from a signal handler, which cannot notify.
    const auto tick = std::chrono::milliseconds(50);
    while (!done_.load() && !stopping()) std::this_thread::sleep_for(tick);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done_.load()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        on_expired();
        _exit(1);
      }
      std::this_thread::sleep_for(tick);
    }
  });
}

ShutdownWatchdog::~ShutdownWatchdog() {
  done_.store(true);
  if (thread_.joinable()) thread_.join();
}

}  // namespace kernel::detail
