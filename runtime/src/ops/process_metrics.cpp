#include "ops/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <string>

namespace kernel::detail {

namespace {

// /proc/self/stat is one line of a few hundred bytes, /proc/stat grows with the CPUs: read no
// more than this of either.
constexpr std::size_t max_proc_file_bytes = 64 * 1024;
// Counting the open descriptors lists /proc/self/fd: stop at a number no process reaches.
constexpr std::size_t max_counted_fds = 1 << 20;

std::optional<std::string> read_bounded(const char* path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::string text(max_proc_file_bytes, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(file.gcount()));
  return text;
}

std::optional<std::uint64_t> number(std::string_view text) noexcept {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

prometheus::MetricFamily one_value(const char* name, const char* help, prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return {name, help, type, {metric}};
}

std::optional<std::size_t> open_fds() {
  std::error_code error;
  std::filesystem::directory_iterator entries("/proc/self/fd", error);
  if (error) return std::nullopt;
  std::size_t count = 0;
  for (auto end = std::filesystem::directory_iterator(); entries != end && count < max_counted_fds;
       entries.increment(error)) {
    if (error) return std::nullopt;
    ++count;
  }
  return count > 0 ? std::optional(count - 1) : std::nullopt;  // less the one listing them
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) noexcept {
  const auto name_end = text.rfind(')');
  if (name_end == std::string_view::npos) return std::nullopt;
  // After the name: field 3 (state) is index 0; utime is field 14, stime 15, starttime 22, rss 24.
  std::string_view rest = text.substr(name_end + 1);
  std::optional<std::uint64_t> fields[4];
  constexpr std::size_t wanted[4] = {11, 12, 19, 21};
  std::size_t index = 0;
  while (!rest.empty() && index <= wanted[3]) {
    const auto start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const auto end = std::min(rest.find_first_of(" \n"), rest.size());
    for (std::size_t w = 0; w < 4; ++w) {
      if (wanted[w] == index) fields[w] = number(rest.substr(0, end));
    }
    rest.remove_prefix(end);
    ++index;
  }
  for (const auto& field : fields) {
    if (!field) return std::nullopt;
  }
  return ProcStat{*fields[0], *fields[1], *fields[2], *fields[3]};
}

std::optional<std::uint64_t> parse_boot_time(std::string_view text) noexcept {
  for (std::size_t at = 0; at < text.size();) {
    const auto end = std::min(text.find('\n', at), text.size());
    const auto line = text.substr(at, end - at);
    if (line.starts_with("btime ")) return number(line.substr(6));
    at = end + 1;
  }
  return std::nullopt;
}

ProcessMetrics::ProcessMetrics()
    : ticks_per_second_(static_cast<double>(std::max(1L, sysconf(_SC_CLK_TCK)))),
      page_bytes_(static_cast<double>(std::max(1L, sysconf(_SC_PAGESIZE)))) {
  const auto stat_text = read_bounded("/proc/self/stat");
  const auto boot_text = read_bounded("/proc/stat");
  const auto stat = stat_text ? parse_proc_stat(*stat_text) : std::nullopt;
  const auto boot = boot_text ? parse_boot_time(*boot_text) : std::nullopt;
  if (stat && boot)
    start_time_seconds_ = static_cast<double>(*boot) + static_cast<double>(stat->start_ticks) / ticks_per_second_;
}

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  if (const auto text = read_bounded("/proc/self/stat")) {
    if (const auto stat = parse_proc_stat(*text)) {
      families.push_back(one_value("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                                   MetricType::Counter,
                                   static_cast<double>(stat->user_ticks + stat->system_ticks) / ticks_per_second_));
      families.push_back(one_value("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
                                   static_cast<double>(stat->resident_pages) * page_bytes_));
    }
  }
  if (const auto fds = open_fds()) {
    families.push_back(one_value("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                                 static_cast<double>(*fds)));
  }
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    families.push_back(one_value("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
                                 static_cast<double>(limit.rlim_cur)));
  }
  if (start_time_seconds_) {
    families.push_back(one_value("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                                 MetricType::Gauge, *start_time_seconds_));
  }
  return families;
}

}  // namespace kernel::detail
