#pragma once
// The kernel's Prometheus metrics (docs/operations.md, "Metrics"), on a prometheus-cpp registry.
//
// The loop thread updates them; the HTTP thread only serialises the registry. Per-message
// work is a handful of atomic operations on metrics found once per topic and cached by the
// caller (on the partition state, or by topic-name pointer in the middleware): no string
// lookups, no allocation, no locks of ours on the way.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "kernel/errors.hpp"
#include "kernel/metrics.hpp"
#include "kernel/outcome.hpp"
#include "ops/client_metrics.hpp"
#include "ops/pause_reasons.hpp"
#include "ops/process_metrics.hpp"

namespace kernel::detail {

/// The `outcome` label of kernel_messages_handled_total.
enum class HandledOutcome : std::uint8_t { success, business_error, retried, dead_lettered };
inline constexpr std::size_t handled_outcome_count = 4;
std::string_view to_string(HandledOutcome outcome) noexcept;

/// What an attempt's Outcome counts as, given the attempt number and the retry budget.
/// nullopt for outcomes the metric does not count (fatal).
std::optional<HandledOutcome> handled_outcome(Outcome::Kind kind, int attempt, int max_retries) noexcept;

/// The metrics of one input topic.
struct TopicMetrics {
  std::string topic;
  prometheus::Counter* consumed = nullptr;
  std::array<prometheus::Counter*, handled_outcome_count> handled{};
  prometheus::Histogram* duration = nullptr;
  /// kernel_retries_total and kernel_dead_letters_total, indexed by FailureReason.
  std::array<prometheus::Counter*, all_failure_reasons.size()> retries{};
  std::array<prometheus::Counter*, all_failure_reasons.size()> dead_letters{};

  void count(HandledOutcome outcome) noexcept { handled[static_cast<std::size_t>(outcome)]->Increment(); }
  /// A transient failure tried again (in place, on a retry topic, or held by the circuit
  /// breaker), counted once in each of its two metrics so that they always agree.
  void count_retry(FailureReason reason) noexcept {
    count(HandledOutcome::retried);
    retries[static_cast<std::size_t>(reason)]->Increment();
  }
  /// A dead letter written for an input of this topic, by its dlq-failure-reason.
  void count_dead_letter(FailureReason reason) noexcept { dead_letters[static_cast<std::size_t>(reason)]->Increment(); }
};

class KernelMetrics {
 public:
  explicit KernelMetrics(int max_retries);
  KernelMetrics(const KernelMetrics&) = delete;
  KernelMetrics& operator=(const KernelMetrics&) = delete;

  /// A kernel may register its own metrics here; they are served on /metrics too.
  prometheus::Registry& registry() noexcept { return *registry_; }
  int max_retries() const noexcept { return max_retries_; }
  /// A kernel loop counts kernel_messages_handled_total itself, from what it did with each
  /// attempt (retried, held by the circuit breaker, moved to a retry topic, dead-lettered):
  /// the metrics middleware then only times the handler. Without a loop (a test's context)
  /// the middleware counts by the attempt number and max_retries().
  void count_outcomes_in_loop() noexcept { loop_counts_outcomes_.store(true, std::memory_order_relaxed); }
  bool loop_counts_outcomes() const noexcept { return loop_counts_outcomes_.load(std::memory_order_relaxed); }

  /// The metrics of an input topic, created on first use (a string lookup: call it when a
  /// partition is assigned and keep the pointer). Stable for the life of this object.
  TopicMetrics& input_topic(std::string_view topic);
  /// The same for a consumed message's topic name, cached by the name's address
  /// (librdkafka keeps one per topic), for middleware that sees only the message.
  TopicMetrics& input_topic_cached(std::string_view topic);
  /// kernel_messages_produced_total for a topic (a string lookup: keep the pointer). Topics
  /// beyond the first max_produced_topics share the series topic="(other)": replies go where
  /// their requests say, and a series per requester's topic would grow without bound.
  prometheus::Counter& produced(std::string_view topic);
  static constexpr std::size_t max_produced_topics = 100;

  /// kernel_info{kernel, version} = 1: the kernel's name, for dashboards and alerts to select
  /// its series by (Prometheus adds only where it scraped them). Called once, at start.
  void identify(std::string_view kernel, std::string_view version);
  /// kernel_ready: 1 when /readyz answers 200, else 0; the HTTP server sets it on each scrape.
  prometheus::Gauge& ready() noexcept { return *instruments_.ready; }

  prometheus::Gauge& in_flight() noexcept { return *instruments_.in_flight; }
  /// kernel_parked_messages: received beyond the in-flight bound, not handled yet.
  prometheus::Gauge& parked() noexcept { return *instruments_.parked; }
  /// kernel_dead_letters_blocked: dead letters that cannot be written (a final refusal).
  prometheus::Gauge& dead_letters_blocked() noexcept { return *instruments_.dead_letters_blocked; }
  prometheus::Counter& commits() noexcept { return *instruments_.commits; }
  prometheus::Counter& rebalances() noexcept { return *instruments_.rebalances; }
  /// kernel_partitions_paused{reason}; only for reasons counted_in_metrics().
  prometheus::Gauge& paused(PauseReason reason) noexcept {
    return *instruments_.paused[static_cast<std::size_t>(reason)];
  }
  /// kernel_circuit_breaker_state (0 closed, 1 open, 2 half-open) and its transitions.
  prometheus::Gauge& breaker_state() noexcept { return *instruments_.breaker_state; }
  /// kernel_workers_busy: handler calls running on KERNEL_CONCURRENCY's workers (0 without workers).
  prometheus::Gauge& workers_busy() noexcept { return *instruments_.workers_busy; }
  prometheus::Counter& breaker_transitions() noexcept { return *instruments_.breaker_transitions; }
  /// kernel_dead_letter_write_failures_total: dead-letter writes that failed and are sent again.
  prometheus::Counter& dead_letter_write_failures() noexcept { return *instruments_.dead_letter_write_failures; }
  /// kernel_transactions_total{result=committed|aborted} (KERNEL_DELIVERY=exactly_once).
  prometheus::Counter& transactions(bool committed) noexcept {
    return committed ? *instruments_.transactions_committed : *instruments_.transactions_aborted;
  }

  /// kernel_trace_context_invalid_total: inputs whose trace context was replaced or dropped
  /// (counted by the metrics middleware, on the thread that handles the message).
  prometheus::Counter& trace_context_invalid() noexcept { return *instruments_.trace_context_invalid; }
  /// kernel_fleet_commands_total{result=applied|malformed}: control-topic records read
  /// (docs/operations.md#fleet-wide-pause); the control topic's reader thread counts them.
  prometheus::Counter& fleet_commands(bool applied) noexcept {
    return applied ? *instruments_.fleet_commands_applied : *instruments_.fleet_commands_malformed;
  }

  /// kernel_messages_deduplicated_total for an input topic. Any thread (deduplicate() runs
  /// where the handler runs); a string lookup, for the rare dropped message.
  prometheus::Counter& deduplicated(std::string_view topic);

  /// kernel_consumer_lag for a partition; `lag` < 0 removes it (revoked, or unknown).
  void set_lag(const std::string& topic, std::int32_t partition, std::int64_t lag);
  /// Removes the lag of every partition not in `keep` (topic, partition).
  void retain_lag(const std::vector<std::pair<std::string, std::int32_t>>& keep);

  /// The kernel's own metrics (kernel/metrics.hpp), served from `registry` after the kernel_
  /// ones. Set once, before the loop starts; the loop gives them to every context.
  void serve_own_metrics(std::shared_ptr<Metrics> own, std::shared_ptr<const prometheus::Collectable> registry);
  std::shared_ptr<Metrics> own_metrics() const noexcept { return own_metrics_; }
  /// librdkafka's statistics as kernel_client_* (KERNEL_CLIENT_METRICS); the loop updates them.
  ClientMetrics& client() noexcept { return client_; }

  /// The Prometheus text exposition of the registry, the process metrics, the client metrics
  /// and the kernel's own (any thread).
  std::string serialize() const;

 private:
  int max_retries_;
  std::atomic<bool> loop_counts_outcomes_{false};
  std::shared_ptr<prometheus::Registry> registry_;
  /// The families a topic's or a partition's series are added to, as they appear.
  struct Families {
    prometheus::Family<prometheus::Counter>* consumed;
    prometheus::Family<prometheus::Counter>* handled;
    prometheus::Family<prometheus::Counter>* produced;
    prometheus::Family<prometheus::Histogram>* duration;
    prometheus::Family<prometheus::Gauge>* lag;
    prometheus::Family<prometheus::Counter>* deduplicated;
    prometheus::Family<prometheus::Counter>* retries;
    prometheus::Family<prometheus::Counter>* dead_letters;
    prometheus::Family<prometheus::Gauge>* info;
  };
  /// The series the loop, the HTTP server and the middleware set directly, made once.
  struct Instruments {
    prometheus::Gauge* ready;
    prometheus::Gauge* in_flight;
    prometheus::Gauge* parked;
    prometheus::Gauge* dead_letters_blocked;
    prometheus::Counter* commits;
    prometheus::Counter* rebalances;
    prometheus::Gauge* breaker_state;
    prometheus::Gauge* workers_busy;
    prometheus::Counter* breaker_transitions;
    prometheus::Counter* dead_letter_write_failures;
    prometheus::Counter* transactions_committed;
    prometheus::Counter* transactions_aborted;
    prometheus::Counter* trace_context_invalid;
    std::array<prometheus::Gauge*, all_pause_reasons.size()> paused{};  // null for backpressure
    prometheus::Counter* fleet_commands_applied;
    prometheus::Counter* fleet_commands_malformed;
  };
  Families families_{};
  Instruments instruments_{};
  ProcessMetrics process_;
  ClientMetrics client_;
  std::shared_ptr<Metrics> own_metrics_;
  std::shared_ptr<const prometheus::Collectable> own_registry_;

  // The metrics middleware finds its topic on worker threads too (KERNEL_CONCURRENCY): the
  // map is locked (found once per topic), the name-address cache read without a lock.
  std::mutex topics_mutex_;
  std::map<std::string, std::unique_ptr<TopicMetrics>, std::less<>> topics_;
  struct CachedName {
    std::atomic<const char*> address{nullptr};
    std::atomic<TopicMetrics*> metrics{nullptr};
  };
  std::array<CachedName, 64> by_name_address_;
  std::atomic<std::size_t> cached_names_{0};  // entries of by_name_address_ published
  // Touched by the loop thread only (the families lock themselves for the scrape).
  std::map<std::string, prometheus::Counter*, std::less<>> produced_;
  std::map<std::pair<std::string, std::int32_t>, prometheus::Gauge*> lag_;
};

/// Buckets of kernel_handler_duration_seconds: 50 µs to 10 s.
const prometheus::Histogram::BucketBoundaries& handler_duration_buckets();

}  // namespace kernel::detail
