#pragma once
// bench/latency's statistics of one run: percentiles of a sample, and the stalls (outputs that
// took much longer than the rest, grouped by when their inputs were created).
#include <algorithm>
#include <cstddef>
#include <vector>

namespace bench {

/// Percentiles of a sample, in milliseconds.
struct Percentiles {
  double p50 = 0, p99 = 0, p99_9 = 0, max = 0;
};

inline Percentiles percentiles_of(std::vector<double> sample) {
  Percentiles result;
  if (sample.empty()) return result;
  std::sort(sample.begin(), sample.end());
  auto at = [&](double q) { return sample[static_cast<std::size_t>(q * static_cast<double>(sample.size() - 1))]; };
  result.p50 = at(0.50);
  result.p99 = at(0.99);
  result.p99_9 = at(0.999);
  result.max = sample.back();
  return result;
}

/// Outputs that took longer than a threshold, grouped into stalls: inputs created less than
/// 50 ms apart belong to the same one. One long stall hit every contender alike points at the
/// machine (or the broker); a stall per commit interval points at the commit.
struct Stalls {
  long long inputs = 0;     // outputs later than stall_ms
  int count = 0;            // stalls
  double longest_s = 0;     // the longest stall's span of input CreateTimes
  double longest_at_s = 0;  // when it began, seconds after the first paced input
};

inline Stalls stalls_of(const std::vector<long long>& created_us, const std::vector<long long>& arrived_us,
                        double stall_ms, std::size_t first) {
  Stalls result;
  long long begin = 0, last = 0;
  auto close = [&] {
    if (last == 0) return;
    const double span = static_cast<double>(last - begin) / 1e6;
    if (span >= result.longest_s) {
      result.longest_s = span;
      result.longest_at_s = static_cast<double>(begin - created_us[first]) / 1e6;
    }
  };
  for (auto seq = first; seq < created_us.size(); ++seq) {
    if (arrived_us[seq] == 0 || static_cast<double>(arrived_us[seq] - created_us[seq]) / 1000.0 <= stall_ms) continue;
    ++result.inputs;
    if (last == 0 || created_us[seq] - last > 50'000) {
      close();
      ++result.count;
      begin = created_us[seq];
    }
    last = created_us[seq];
  }
  close();
  return result;
}

}  // namespace bench
