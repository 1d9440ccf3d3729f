#include "run/signals.hpp"

#include <time.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

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
  void add_number(long value, int width) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value > 0 || n < width);
    while (n > 0 && size < sizeof data - 1) data[size++] = digits[--n];
  }
};

/// 2026-11-23T03:09:38.123Z from clock_gettime, without gmtime (not async-signal-safe).
void add_timestamp(LineBuffer& line) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  const long days = now.tv_sec / 86400;
  const long seconds = now.tv_sec % 86400;
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  const long z = days + 719468;
  const long era = z / 146097;
  const long doe = z - era * 146097;
  const long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long mp = (5 * doy + 2) / 153;
  const long day = doy - (153 * mp + 2) / 5 + 1;
  const long month = mp < 10 ? mp + 3 : mp - 9;
  const long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  line.add_number(year, 4);
  line.add("-");
  line.add_number(month, 2);
  line.add("-");
  line.add_number(day, 2);
  line.add("T");
  line.add_number(seconds / 3600, 2);
  line.add(":");
  line.add_number(seconds / 60 % 60, 2);
  line.add(":");
  line.add_number(seconds % 60, 2);
  line.add(".");
  line.add_number(now.tv_nsec / 1000000, 3);
  line.add("Z");
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
