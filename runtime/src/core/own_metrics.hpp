#pragma once
// The runtime's side of a kernel's own metrics (kernel/metrics.hpp): each declared metric is an
// OwnFamily on a prometheus-cpp registry of its own, which the HTTP side serves beside the
// kernel_ metrics (http/operations.cpp).
//
// The series of a family are found by their label values without allocating: a hash of the
// values picks a bucket of a hash map read under a shared lock, and the values are compared
// with the stored ones. Only a value never seen takes the exclusive lock and allocates.
#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/logger.h>

#include "kernel/metrics.hpp"

namespace kernel::detail {

enum class OwnKind { counter, gauge, histogram };

/// The label value a series gets for every label once its metric has max_series series.
inline constexpr std::string_view overflow_label_value = "other";

/// A metric name or label name Prometheus accepts ([a-zA-Z_][a-zA-Z0-9_]*; no colon, which is
/// for recording rules). Label names starting `__` are Prometheus' own.
bool valid_metric_name(std::string_view name) noexcept;
bool valid_label_name(std::string_view name) noexcept;
/// `<kernel_name>_` with every character a metric name may not have turned into `_`.
std::string metric_prefix(std::string_view kernel_name);

/// What a declaration says of a metric; a second declaration must say the same.
struct OwnShape {
  OwnKind kind = OwnKind::counter;
  std::vector<std::string> label_names;
  std::vector<double> buckets;  // histograms only
  bool operator==(const OwnShape&) const = default;
};

class OwnFamily {
 public:
  OwnFamily(std::string name, std::string_view help, OwnShape shape, std::size_t max_series,
            prometheus::Registry& registry, std::shared_ptr<spdlog::logger> log);
  OwnFamily(const OwnFamily&) = delete;
  OwnFamily& operator=(const OwnFamily&) = delete;

  const OwnShape& shape() const noexcept { return shape_; }
  const std::string& name() const noexcept { return name_; }
  /// Series, counting `other` (for tests and the flood check).
  std::size_t series_count() const;

  // The series of `values`, made the first time (at the bound: the `other` series). Throws
  // std::invalid_argument when the number of values is not the number of label names.
  prometheus::Counter& counter_series(LabelValues values) { return *find_or_add(values).counter; }
  prometheus::Gauge& gauge_series(LabelValues values) { return *find_or_add(values).gauge; }
  prometheus::Histogram& histogram_series(LabelValues values) { return *find_or_add(values).histogram; }
  /// The series of `values` if it exists (nothing is made): for value() and count().
  std::optional<prometheus::ClientMetric> read(LabelValues values) const;

  Counter& as_counter() noexcept { return counter_; }
  Gauge& as_gauge() noexcept { return gauge_; }
  Histogram& as_histogram() noexcept { return histogram_; }

 private:
  struct Series {
    std::vector<std::string> values;
    prometheus::Counter* counter = nullptr;
    prometheus::Gauge* gauge = nullptr;
    prometheus::Histogram* histogram = nullptr;
  };
  using ValueSpan = std::span<const std::string_view>;
  const Series& find_or_add(LabelValues labels);
  const Series* find_locked(std::size_t hash, ValueSpan values) const;
  const Series& add_locked(std::size_t hash, ValueSpan values);
  void check_arity(LabelValues values) const;

  std::string name_;
  OwnShape shape_;
  std::size_t max_series_;
  std::shared_ptr<spdlog::logger> log_;
  prometheus::Family<prometheus::Counter>* counters_ = nullptr;
  prometheus::Family<prometheus::Gauge>* gauges_ = nullptr;
  prometheus::Family<prometheus::Histogram>* histograms_ = nullptr;

  mutable std::shared_mutex mutex_;
  std::unordered_multimap<std::size_t, std::unique_ptr<Series>> series_;  // by hash of the values
  const Series* other_ = nullptr;                                         // the overflow series, once made
  bool full_ = false;                                                     // no new series but `other`
  std::atomic<bool> warned_{false};

  Counter counter_{*this};
  Gauge gauge_{*this};
  Histogram histogram_{*this};
};

struct OwnMetricsState {
  std::string prefix;
  std::size_t max_series = 1;
  std::shared_ptr<spdlog::logger> log;
  /// Served on /metrics by the HTTP side; a kernel without it keeps counting, unserved.
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::mutex mutex;  // declarations only: a series is found through its family
  std::map<std::string, std::unique_ptr<OwnFamily>, std::less<>> families;

  OwnFamily& declare(std::string_view name, std::string_view help, OwnShape shape);
};

}  // namespace kernel::detail
