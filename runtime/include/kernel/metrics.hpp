#pragma once
/// A kernel's own Prometheus metrics (docs/interop.md, "A kernel's own metrics"): counters,
/// gauges and histograms, served on /metrics beside the kernel_ ones as `<kernel>_<name>` (the
/// kernel's name with `-` turned into `_`), with their HELP and TYPE.
///
///   auto& orders = context.metrics().counter("orders_total", "Orders seen, by country", {"country"});
///   orders.inc({"NL"});
///
/// A metric is declared once with its label names; its label values are bounded: past
/// KERNEL_METRICS_MAX_SERIES series, new values are counted in the series whose values are all
/// `other`, and a warning is logged once per metric. Every call is thread-safe. A series already
/// seen costs a hash of its label values, a shared lock and an atomic add: no allocation.
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace spdlog {
class logger;
}  // namespace spdlog

namespace kernel {

namespace detail {
/// One declared metric's series (runtime/src/ops/own_metrics.hpp); its type is the runtime's.
class OwnFamily;
/// What a Metrics keeps: its families and the prometheus-cpp registry they are served from.
struct OwnMetricsState;
}  // namespace detail

/// Label names at declaration, label values at each call, in the same order.
using LabelNames = std::initializer_list<std::string_view>;
using LabelValues = std::initializer_list<std::string_view>;

/// A value that only goes up (Prometheus counter). Name it `..._total`.
class Counter {
 public:
  void inc(LabelValues labels = {}) { add(labels, 1.0); }
  /// Throws std::invalid_argument for a negative or NaN amount, or the wrong number of labels.
  void add(LabelValues labels, double amount);
  /// The series' value (0 when never counted): for tests.
  double value(LabelValues labels = {}) const;

 private:
  friend class detail::OwnFamily;
  explicit Counter(detail::OwnFamily& family) noexcept : family_(&family) {}
  detail::OwnFamily* family_;
};

/// A value that goes up and down (Prometheus gauge).
class Gauge {
 public:
  void set(LabelValues labels, double value);
  void set(double value) { set({}, value); }
  void add(LabelValues labels, double delta);
  double value(LabelValues labels = {}) const;

 private:
  friend class detail::OwnFamily;
  explicit Gauge(detail::OwnFamily& family) noexcept : family_(&family) {}
  detail::OwnFamily* family_;
};

/// Observations counted in buckets given at declaration (Prometheus histogram).
class Histogram {
 public:
  void observe(LabelValues labels, double value);
  void observe(double value) { observe({}, value); }
  /// How many observations the series has (0 when none): for tests.
  std::size_t count(LabelValues labels = {}) const;

 private:
  friend class detail::OwnFamily;
  explicit Histogram(detail::OwnFamily& family) noexcept : family_(&family) {}
  detail::OwnFamily* family_;
};

/// The kernel's own metrics: Context::metrics(), and KernelSpec::metrics at start. Declaring a
/// name again with the same type, label names (and buckets) returns the same metric; with
/// another, or a name or label name Prometheus would refuse, throws std::invalid_argument.
/// A name lookup, under a lock: declare once and keep the reference (valid as long as this).
class Metrics {
 public:
  /// Metrics named `<kernel_name>_<name>`, at most `max_series` series each; `log` gets the
  /// warning when a metric reaches it. The runtime makes the one it serves; a test may make its own.
  Metrics(std::string_view kernel_name, std::size_t max_series, std::shared_ptr<spdlog::logger> log);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;
  ~Metrics();

  Counter& counter(std::string_view name, std::string_view help, LabelNames labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, LabelNames labels = {});
  /// `buckets`: upper bounds, finite and strictly increasing (+Inf is added).
  Histogram& histogram(std::string_view name, std::string_view help, LabelNames labels, std::vector<double> buckets);

  /// The prefix every name gets: the kernel's name with `-` as `_`, then `_`.
  const std::string& prefix() const noexcept;

  /// The runtime's part (the registry it serves); incomplete outside the runtime.
  detail::OwnMetricsState& runtime_state() noexcept { return *state_; }

 private:
  std::unique_ptr<detail::OwnMetricsState> state_;
};

}  // namespace kernel
