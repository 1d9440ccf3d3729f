// kernel/metrics.hpp: the handles a kernel's code holds, over the runtime's OwnFamily.
#include "kernel/metrics.hpp"

#include <cmath>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "core/own_metrics.hpp"

namespace kernel {

void Counter::add(LabelValues labels, double amount) {
  // prometheus-cpp ignores a negative increment silently: say it instead.
  if (!(amount >= 0)) {
    throw std::invalid_argument("counter " + family_->name() + ": add() takes an amount >= 0, given " +
                                std::to_string(amount));
  }
  family_->counter_series(labels).Increment(amount);
}

double Counter::value(LabelValues labels) const {
  const auto metric = family_->read(labels);
  return metric ? metric->counter.value : 0.0;
}

void Gauge::set(LabelValues labels, double value) { family_->gauge_series(labels).Set(value); }
void Gauge::add(LabelValues labels, double delta) { family_->gauge_series(labels).Increment(delta); }

double Gauge::value(LabelValues labels) const {
  const auto metric = family_->read(labels);
  return metric ? metric->gauge.value : 0.0;
}

void Histogram::observe(LabelValues labels, double value) { family_->histogram_series(labels).Observe(value); }

std::size_t Histogram::count(LabelValues labels) const {
  const auto metric = family_->read(labels);
  return metric ? static_cast<std::size_t>(metric->histogram.sample_count) : 0;
}

Metrics::Metrics(std::string_view kernel_name, std::size_t max_series, std::shared_ptr<spdlog::logger> log)
    : state_(std::make_unique<detail::OwnMetricsState>()) {
  state_->prefix = detail::metric_prefix(kernel_name);
  state_->max_series = max_series;
  state_->log = log ? std::move(log) : spdlog::default_logger();  // the warning is never lost
}

Metrics::~Metrics() = default;

const std::string& Metrics::prefix() const noexcept { return state_->prefix; }

namespace {
std::vector<std::string> names_of(LabelNames labels) { return {labels.begin(), labels.end()}; }
}  // namespace

Counter& Metrics::counter(std::string_view name, std::string_view help, LabelNames labels) {
  return state_->declare(name, help, {detail::OwnKind::counter, names_of(labels), {}}).as_counter();
}

Gauge& Metrics::gauge(std::string_view name, std::string_view help, LabelNames labels) {
  return state_->declare(name, help, {detail::OwnKind::gauge, names_of(labels), {}}).as_gauge();
}

Histogram& Metrics::histogram(std::string_view name, std::string_view help, LabelNames labels,
                              std::vector<double> buckets) {
  return state_->declare(name, help, {detail::OwnKind::histogram, names_of(labels), std::move(buckets)}).as_histogram();
}

}  // namespace kernel
