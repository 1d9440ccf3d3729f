#pragma once
// The process metrics Prometheus' client libraries export (process_cpu_seconds_total,
// process_resident_memory_bytes, process_open_fds, process_max_fds,
// process_start_time_seconds), which prometheus-cpp 1.0 does not: read from /proc at each scrape,
// on the HTTP thread, so the loop never pays for them.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace kernel::detail {

/// What /proc/<pid>/stat says that the metrics use, in the kernel's units (clock ticks, pages).
struct ProcStat {
  std::uint64_t user_ticks = 0;
  std::uint64_t system_ticks = 0;
  std::uint64_t start_ticks = 0;  ///< after boot
  std::uint64_t resident_pages = 0;
};

/// Parses the text of /proc/<pid>/stat; nullopt unless every field used is there and a number.
/// The command name (second field) may hold spaces and parentheses: fields count from its last `)`.
std::optional<ProcStat> parse_proc_stat(std::string_view text) noexcept;
/// The boot time (seconds since the epoch) on the `btime` line of /proc/stat's text.
std::optional<std::uint64_t> parse_boot_time(std::string_view text) noexcept;

class ProcessMetrics : public prometheus::Collectable {
 public:
  ProcessMetrics();
  /// Reads /proc/self each time; a file that cannot be read or parsed leaves its metrics out.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  double ticks_per_second_;
  double page_bytes_;
  std::optional<double> start_time_seconds_;  // read once: it does not change
};

}  // namespace kernel::detail
