// The process metrics read from /proc: parsing /proc/<pid>/stat and /proc/stat text, and what a
// scrape of this process shows.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "ops/process_metrics.hpp"

namespace process_metrics_test {

using kernel::detail::parse_boot_time;
using kernel::detail::parse_proc_stat;

constexpr const char* sample =
    "25826 (cat) R 25823 25823 17256 0 -1 4194304 98 0 0 0 7 3 0 0 20 0 1 0 3288244 3133440 375 "
    "18446744073709551615 94808491139072 94808491158953 140731042952784 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";

TEST_CASE("/proc/<pid>/stat gives CPU ticks, start ticks and resident pages") {
  const auto stat = parse_proc_stat(sample);
  REQUIRE(stat);
  CHECK(stat->user_ticks == 7);
  CHECK(stat->system_ticks == 3);
  CHECK(stat->start_ticks == 3288244);
  CHECK(stat->resident_pages == 375);
}

TEST_CASE("a command name with spaces and parentheses does not shift the fields") {
  const auto stat =
      parse_proc_stat("1 (a) b (c)) S 0 1 1 0 -1 4194560 1 0 0 0 11 22 0 0 20 0 1 0 33 44 55 18446744073709551615\n");
  REQUIRE(stat);
  CHECK(stat->user_ticks == 11);
  CHECK(stat->system_ticks == 22);
  CHECK(stat->start_ticks == 33);
  CHECK(stat->resident_pages == 55);
}

TEST_CASE("stat text cut short, without a name or with a field not a number is refused") {
  CHECK_FALSE(parse_proc_stat(""));
  CHECK_FALSE(parse_proc_stat("25826 cat R 1 2 3"));
  CHECK_FALSE(parse_proc_stat("25826 (cat) R 25823 25823 17256 0 -1 4194304 98 0 0 0 7 3"));
  CHECK_FALSE(parse_proc_stat("1 (x) S 0 1 1 0 -1 4194560 1 0 0 0 -11 22 0 0 20 0 1 0 33 44 55 1\n"));
  CHECK_FALSE(parse_proc_stat("1 (x) S 0 1 1 0 -1 4194560 1 0 0 0 11 22 0 0 20 0 1 0 33 44 5x5 1\n"));
  CHECK_FALSE(
      parse_proc_stat("1 (x) S 0 1 1 0 -1 4194560 1 0 0 0 99999999999999999999999 22 0 0 20 0 1 0 33 44 5 1\n"));
}

TEST_CASE("/proc/stat's btime line is the boot time") {
  CHECK(parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1796652622\nprocesses 9\n") == 1796652622u);
  CHECK_FALSE(parse_boot_time("cpu  1 2 3\n"));
  CHECK_FALSE(parse_boot_time("btime soon\n"));
}

TEST_CASE("a scrape of this process has its CPU, memory, descriptors and start time") {
  const auto families = kernel::detail::ProcessMetrics().Collect();
  std::map<std::string, double> values;
  for (const auto& family : families) {
    REQUIRE(family.metric.size() == 1);
    values[family.name] =
        family.type == prometheus::MetricType::Counter ? family.metric[0].counter.value : family.metric[0].gauge.value;
  }
  CHECK(values.at("process_resident_memory_bytes") > 1e6);
  CHECK(values.at("process_cpu_seconds_total") >= 0);
  CHECK(values.at("process_open_fds") >= 3);
  CHECK(values.at("process_start_time_seconds") > 1.6e9);
}

}  // namespace process_metrics_test
