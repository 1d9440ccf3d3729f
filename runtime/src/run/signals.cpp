#include "run/signals.hpp"

#include <unistd.h>

#include <csignal>
#include <cstring>

#include "core/rfc3339.hpp"

namespace kernel::detail {

namespace {
std::atomic<int> signals_received{0};
void (*stop_callback)() = nullptr;
bool json_format = false;
char kernel_name[128] = "kernel";

/// Appends text to a fixed buffer; only async-signal-safe operations.
struct LineBuffer {
  char data[512];
  std::size_t size = 0;
  void add(const char* text) {
    for (; *text && size < sizeof data - 1; ++text) data[size++] = *text;
  }
};

void add_timestamp(LineBuffer& line) {
  char text[rfc3339_length + 1] = {};
  format_rfc3339(now_epoch_ms(), text);  // async-signal-safe
  line.add(text);
}

/// One log line in the kernel's format, written with write(2) from a signal handler.
void write_log_line(const char* message) {
  LineBuffer line;
  if (json_format) {
    line.add("{\"ts\":\"");
    add_timestamp(line);
    line.add("\",\"level\":\"warn\",\"kernel\":\"");
    line.add(kernel_name);
    line.add("\",\"msg\":\"");
    line.add(message);
    line.add("\"}\n");
  } else {
    add_timestamp(line);
    line.add(" WARN  [");
    line.add(kernel_name);
    line.add("] ");
    line.add(message);
    line.add("\n");
  }
  (void)!write(STDERR_FILENO, line.data, line.size);
}

void on_signal(int signal_number) {
  if (signals_received.fetch_add(1) > 0) {
    write_log_line("second signal: exiting now; uncommitted messages will be delivered again");
    _exit(128 + signal_number);
  }
  write_log_line("signal received: stopping after the messages in flight (send it again to exit at once)");
  if (stop_callback) stop_callback();
}
}  // namespace

StopSignals::StopSignals(void (*on_stop)(), const std::string& name, bool json) {
  stop_callback = on_stop;
  json_format = json;
  // Kernel names are [a-z0-9-]: nothing to escape in JSON.
  std::strncpy(kernel_name, name.c_str(), sizeof kernel_name - 1);
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
