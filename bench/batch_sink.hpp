#pragma once
// What bench/batch's two contenders share: the row the batch-sink pattern decodes (id, account,
// amount), an in-memory sink standing in for the store, and the figures each contender prints
// once it has written the rows it was told to expect (BENCH_EXPECTED_ROWS): rows per second from
// its first write to its last, the duration of each batch's call (decode + write), and the CPU
// it spent meanwhile. The driver (bench/batch.cpp) reads that one line from its stdout.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench {

/// The fields the batch-sink pattern takes from a message's JSON.
struct Row {
  std::string id;
  std::string account;
  double amount = 0.0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Row, id, account, amount)

/// A table in memory: it appends the rows (copies, as a client library serialising a request
/// would) and starts over every 64k rows, so its memory stays bounded.
class MemorySink {
 public:
  void write(const std::vector<Row>& rows) {
    if (table_.size() + rows.size() > 65536) table_.clear();
    table_.insert(table_.end(), rows.begin(), rows.end());
  }

 private:
  std::vector<Row> table_;
};

/// Times each batch's call and prints the figures when the expected rows are written.
class BatchStats {
 public:
  BatchStats() {
    const char* expected = std::getenv("BENCH_EXPECTED_ROWS");
    expected_ = expected ? std::atoll(expected) : 0;
    calls_ms_.reserve(100000);
  }

  /// Records a call that wrote `rows` rows, which began at `started`.
  void record(std::chrono::steady_clock::time_point started, std::size_t rows) {
    const auto now = std::chrono::steady_clock::now();
    calls_ms_.push_back(std::chrono::duration<double, std::milli>(now - started).count());
    rows_ += static_cast<long long>(rows);
    if (calls_ms_.size() == 1) {
      first_end_ = now;
      first_rows_ = rows_;
      first_cpu_ = cpu_seconds();
    }
    if (!printed_ && expected_ > 0 && rows_ >= expected_) print(now);
  }

 private:
  static double cpu_seconds() {
    rusage used{};
    getrusage(RUSAGE_SELF, &used);
    return static_cast<double>(used.ru_utime.tv_sec + used.ru_stime.tv_sec) +
           static_cast<double>(used.ru_utime.tv_usec + used.ru_stime.tv_usec) / 1e6;
  }

  void print(std::chrono::steady_clock::time_point now) {
    printed_ = true;
    const double seconds = std::chrono::duration<double>(now - first_end_).count();
    const long long counted = rows_ - first_rows_;  // rows written after the first call ended
    auto sorted = calls_ms_;
    std::sort(sorted.begin(), sorted.end());
    auto at = [&](double q) { return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))]; };
    std::printf(
        "rows=%lld calls=%zu rows_per_s=%.0f call_p50_ms=%.3f call_p99_ms=%.3f call_max_ms=%.3f "
        "rows_per_call=%.1f cpu_us_per_row=%.2f\n",
        rows_, sorted.size(), seconds > 0 ? static_cast<double>(counted) / seconds : 0.0, at(0.5), at(0.99),
        sorted.back(), static_cast<double>(rows_) / static_cast<double>(sorted.size()),
        counted > 0 ? (cpu_seconds() - first_cpu_) * 1e6 / static_cast<double>(counted) : 0.0);
    std::fflush(stdout);
  }

  long long expected_ = 0, rows_ = 0, first_rows_ = 0;
  bool printed_ = false;
  std::vector<double> calls_ms_;
  std::chrono::steady_clock::time_point first_end_{};
  double first_cpu_ = 0;
};

}  // namespace bench
