#include "core/own_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/utf8.hpp"

namespace kernel::detail {

namespace {

using ValueSpan = std::span<const std::string_view>;

constexpr bool name_start(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
constexpr bool name_part(char c) noexcept { return name_start(c) || (c >= '0' && c <= '9'); }

/// A label value is stored only if it is short UTF-8: it ends up in every scrape, and one byte
/// that is not UTF-8 would make Prometheus refuse the whole page.
constexpr std::size_t max_label_value_bytes = 128;

bool storable(std::string_view value) noexcept {
  if (value.size() > max_label_value_bytes) return false;
  for (std::size_t at = 0; at < value.size();) {
    const auto character = decode_utf8(value, at);
    if (!character) return false;
    at += character->length;
  }
  return true;
}

bool is_overflow(ValueSpan values) noexcept {
  for (const auto value : values) {
    if (value != overflow_label_value) return false;
  }
  return true;
}

// FNV-1a over the values, each followed by a byte no UTF-8 text holds, so ("ab","c") and
// ("a","bc") differ.
std::size_t hash_of(ValueSpan values) noexcept {
  std::uint64_t hash = 14695981039346656037ull;
  for (const auto value : values) {
    for (const char c : value) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    hash = (hash ^ 0xffu) * 1099511628211ull;
  }
  return static_cast<std::size_t>(hash);
}

std::string describe(const OwnShape& shape) {
  static constexpr const char* kinds[] = {"counter", "gauge", "histogram"};
  std::string text = std::string(kinds[static_cast<int>(shape.kind)]) + " with labels {";
  for (std::size_t i = 0; i < shape.label_names.size(); ++i) text += (i ? "," : "") + shape.label_names[i];
  text += "}";
  if (shape.kind == OwnKind::histogram) {
    text += " and buckets [";
    for (std::size_t i = 0; i < shape.buckets.size(); ++i) text += (i ? "," : "") + std::to_string(shape.buckets[i]);
    text += "]";
  }
  return text;
}

}  // namespace

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty() || !name_start(name.front())) return false;
  for (const char c : name) {
    if (!name_part(c)) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) noexcept { return valid_metric_name(name) && !name.starts_with("__"); }

std::string metric_prefix(std::string_view kernel_name) {
  std::string prefix;
  for (const char c : kernel_name) prefix += name_part(c) ? c : '_';
  if (prefix.empty() || !name_start(prefix.front())) prefix.insert(prefix.begin(), '_');
  return prefix + "_";
}

OwnFamily::OwnFamily(std::string name, std::string_view help, OwnShape shape, std::size_t max_series,
                     prometheus::Registry& registry, std::shared_ptr<spdlog::logger> log)
    : name_(std::move(name)),
      shape_(std::move(shape)),
      max_series_(std::max<std::size_t>(1, max_series)),
      log_(std::move(log)) {
  switch (shape_.kind) {
    case OwnKind::counter:
      counters_ = &prometheus::BuildCounter().Name(name_).Help(std::string(help)).Register(registry);
      break;
    case OwnKind::gauge:
      gauges_ = &prometheus::BuildGauge().Name(name_).Help(std::string(help)).Register(registry);
      break;
    case OwnKind::histogram:
      histograms_ = &prometheus::BuildHistogram().Name(name_).Help(std::string(help)).Register(registry);
      break;
  }
}

std::size_t OwnFamily::series_count() const {
  std::shared_lock lock(mutex_);
  return series_.size();
}

void OwnFamily::check_arity(LabelValues values) const {
  if (values.size() != shape_.label_names.size()) {
    throw std::invalid_argument("metric " + name_ + " has " + std::to_string(shape_.label_names.size()) +
                                " label(s), given " + std::to_string(values.size()) + " value(s)");
  }
}

const OwnFamily::Series* OwnFamily::find_locked(std::size_t hash, ValueSpan values) const {
  for (auto [at, end] = series_.equal_range(hash); at != end; ++at) {
    const auto& stored = at->second->values;
    if (std::equal(stored.begin(), stored.end(), values.begin(), values.end())) return at->second.get();
  }
  return nullptr;
}

const OwnFamily::Series& OwnFamily::find_or_add(LabelValues labels) {
  check_arity(labels);
  const ValueSpan values(labels.begin(), labels.size());
  const auto hash = hash_of(values);
  {
    std::shared_lock lock(mutex_);
    if (const auto* found = find_locked(hash, values)) return *found;
    if (full_ && other_) return *other_;
  }
  std::unique_lock lock(mutex_);
  if (const auto* found = find_locked(hash, values)) return *found;
  if (is_overflow(values)) {
    other_ = &add_locked(hash, values);
    return *other_;
  }
  bool fits = true;
  for (const auto value : values) fits = fits && storable(value);
  // The last place is kept for `other`, so the metric never has more than max_series series.
  const std::size_t others = other_ ? 1 : 0;
  if (series_.size() - others + 1 >= max_series_) {
    full_ = true;
    if (!warned_.exchange(true)) {
      log_->warn(
          "metric {} reached {} series (KERNEL_METRICS_MAX_SERIES): label values not seen yet are counted in "
          "the series whose labels are all \"{}\"",
          name_, max_series_, overflow_label_value);
    }
    fits = false;
  }
  if (fits) return add_locked(hash, values);
  if (!other_) {
    const std::vector<std::string_view> overflow(values.size(), overflow_label_value);
    other_ = &add_locked(hash_of(overflow), overflow);
  }
  return *other_;
}

const OwnFamily::Series& OwnFamily::add_locked(std::size_t hash, ValueSpan values) {
  auto series = std::make_unique<Series>();
  series->values.assign(values.begin(), values.end());
  prometheus::Labels labels;
  std::size_t i = 0;
  for (const auto value : values) labels.emplace(shape_.label_names[i++], std::string(value));
  if (counters_) series->counter = &counters_->Add(labels);
  if (gauges_) series->gauge = &gauges_->Add(labels);
  if (histograms_)
    series->histogram = &histograms_->Add(labels, prometheus::Histogram::BucketBoundaries(shape_.buckets));
  const auto* added = series.get();
  series_.emplace(hash, std::move(series));
  return *added;
}

std::optional<prometheus::ClientMetric> OwnFamily::read(LabelValues labels) const {
  check_arity(labels);
  const ValueSpan values(labels.begin(), labels.size());
  std::shared_lock lock(mutex_);
  const auto* found = find_locked(hash_of(values), values);
  if (!found) return std::nullopt;
  if (found->counter) return found->counter->Collect();
  if (found->gauge) return found->gauge->Collect();
  return found->histogram->Collect();
}

OwnFamily& OwnMetricsState::declare(std::string_view name, std::string_view help, OwnShape shape) {
  if (!valid_metric_name(name)) {
    throw std::invalid_argument("metric name \"" + std::string(name) +
                                "\" is not a valid Prometheus name: letters, digits and _, not starting with a digit");
  }
  for (std::size_t i = 0; i < shape.label_names.size(); ++i) {
    const auto& label = shape.label_names[i];
    if (!valid_label_name(label) || (shape.kind == OwnKind::histogram && label == "le")) {
      throw std::invalid_argument("metric " + std::string(name) + ": label name \"" + label +
                                  "\" is not valid: letters, digits and _, not starting with a digit or __" +
                                  (shape.kind == OwnKind::histogram ? ", and not le" : ""));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (shape.label_names[j] == label) {
        throw std::invalid_argument("metric " + std::string(name) + ": label name \"" + label + "\" given twice");
      }
    }
  }
  if (shape.kind == OwnKind::histogram) {
    if (shape.buckets.empty()) throw std::invalid_argument("histogram " + std::string(name) + ": no buckets");
    for (std::size_t i = 0; i < shape.buckets.size(); ++i) {
      if (!std::isfinite(shape.buckets[i]) || (i > 0 && shape.buckets[i] <= shape.buckets[i - 1])) {
        throw std::invalid_argument("histogram " + std::string(name) +
                                    ": buckets must be finite and strictly increasing (+Inf is added)");
      }
    }
  }
  // The runtime's own names (a kernel named kernel or process would reach them).
  if (const auto full = prefix + std::string(name); full.starts_with("kernel_") || full.starts_with("process_")) {
    throw std::invalid_argument("metric " + full + ": names starting kernel_ or process_ are the runtime's");
  }
  std::lock_guard lock(mutex);
  if (auto found = families.find(name); found != families.end()) {
    if (found->second->shape() != shape) {
      throw std::invalid_argument("metric " + std::string(name) + " is already declared as a " +
                                  describe(found->second->shape()) + ", not as a " + describe(shape));
    }
    return *found->second;
  }
  auto family =
      std::make_unique<OwnFamily>(prefix + std::string(name), help, std::move(shape), max_series, *registry, log);
  auto& declared = *family;
  families.emplace(std::string(name), std::move(family));
  return declared;
}

}  // namespace kernel::detail
