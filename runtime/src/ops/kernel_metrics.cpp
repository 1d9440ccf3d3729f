#include "ops/kernel_metrics.hpp"

#include <algorithm>
#include <iterator>
#include <optional>
#include <sstream>

#include <prometheus/text_serializer.h>

namespace kernel::detail {

std::string_view to_string(HandledOutcome outcome) noexcept {
  switch (outcome) {
    case HandledOutcome::success: return "success";
    case HandledOutcome::business_error: return "business_error";
    case HandledOutcome::retried: return "retried";
    case HandledOutcome::dead_lettered: return "dead_lettered";
  }
  return "success";
}

std::optional<HandledOutcome> handled_outcome(Outcome::Kind kind, int attempt, int max_retries) noexcept {
  switch (kind) {
    case Outcome::Kind::success: return HandledOutcome::success;
    case Outcome::Kind::business: return HandledOutcome::business_error;
    case Outcome::Kind::transient:
      return attempt <= max_retries ? HandledOutcome::retried : HandledOutcome::dead_lettered;
    case Outcome::Kind::permanent: return HandledOutcome::dead_lettered;
    case Outcome::Kind::fatal: return std::nullopt;
  }
  return std::nullopt;
}

const prometheus::Histogram::BucketBoundaries& handler_duration_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return buckets;
}

KernelMetrics::KernelMetrics(int max_retries)
    : max_retries_(max_retries), registry_(std::make_shared<prometheus::Registry>()) {
  auto& registry = *registry_;
  families_.consumed = &prometheus::BuildCounter()
                            .Name("kernel_messages_consumed_total")
                            .Help("Messages received from the input topics")
                            .Register(registry);
  families_.handled = &prometheus::BuildCounter()
                           .Name("kernel_messages_handled_total")
                           .Help("Handler attempts by outcome (success, business_error, retried, dead_lettered)")
                           .Register(registry);
  families_.produced = &prometheus::BuildCounter()
                            .Name("kernel_messages_produced_total")
                            .Help("Messages the broker acknowledged, outputs and dead letters, by topic")
                            .Register(registry);
  families_.duration = &prometheus::BuildHistogram()
                            .Name("kernel_handler_duration_seconds")
                            .Help("Time spent in the handler and its middleware per attempt")
                            .Register(registry);
  families_.retries =
      &prometheus::BuildCounter()
           .Name("kernel_retries_total")
           .Help("Transient failures tried again, by the reason of the failure (dlq-failure-reason's words)")
           .Register(registry);
  families_.dead_letters = &prometheus::BuildCounter()
                                .Name("kernel_dead_letters_total")
                                .Help("Inputs dead-lettered, by dlq-failure-reason")
                                .Register(registry);
  families_.info = &prometheus::BuildGauge()
                        .Name("kernel_info")
                        .Help("Always 1; its labels name the kernel and its version")
                        .Register(registry);
  instruments_.ready = &prometheus::BuildGauge()
                            .Name("kernel_ready")
                            .Help("1 when /readyz answers 200 (a member of its group, brokers reachable), else 0")
                            .Register(registry)
                            .Add({});
  instruments_.in_flight =
      &prometheus::BuildGauge()
           .Name("kernel_in_flight_messages")
           .Help("Messages received and not yet committable, at most KAFKA_MAX_POLL_RECORDS per partition")
           .Register(registry)
           .Add({});
  instruments_.parked = &prometheus::BuildGauge()
                             .Name("kernel_parked_messages")
                             .Help("Messages received beyond a partition's in-flight bound, waiting to be handled")
                             .Register(registry)
                             .Add({});
  instruments_.dead_letters_blocked = &prometheus::BuildGauge()
                                           .Name("kernel_dead_letters_blocked")
                                           .Help(
                                               "Dead letters the broker refuses for good (nothing left to cut): their "
                                               "partitions wait, /healthz fails")
                                           .Register(registry)
                                           .Add({});
  families_.lag = &prometheus::BuildGauge()
                       .Name("kernel_consumer_lag")
                       .Help("High watermark minus committed offset, per assigned partition")
                       .Register(registry);
  auto& paused = prometheus::BuildGauge()
                     .Name("kernel_partitions_paused")
                     .Help("Assigned partitions paused, by reason (a partition may have several)")
                     .Register(registry);
  for (const auto reason : all_pause_reasons) {
    if (counted_in_metrics(reason)) {
      instruments_.paused[static_cast<std::size_t>(reason)] = &paused.Add({{"reason", std::string(to_string(reason))}});
    }
  }
  instruments_.commits = &prometheus::BuildCounter()
                              .Name("kernel_commits_total")
                              .Help("Offset commits the broker accepted")
                              .Register(registry)
                              .Add({});
  instruments_.rebalances = &prometheus::BuildCounter()
                                 .Name("kernel_rebalances_total")
                                 .Help("Partition assignments and revocations")
                                 .Register(registry)
                                 .Add({});
  instruments_.breaker_state =
      &prometheus::BuildGauge()
           .Name("kernel_circuit_breaker_state")
           .Help("Circuit breaker: 0 closed, 1 open (every partition paused), 2 half-open (probing)")
           .Register(registry)
           .Add({});
  instruments_.workers_busy =
      &prometheus::BuildGauge()
           .Name("kernel_workers_busy")
           .Help("Handler calls running on worker threads (KERNEL_CONCURRENCY; 0 without workers)")
           .Register(registry)
           .Add({});
  instruments_.breaker_transitions = &prometheus::BuildCounter()
                                          .Name("kernel_circuit_breaker_transitions_total")
                                          .Help("Circuit breaker state changes")
                                          .Register(registry)
                                          .Add({});
  families_.deduplicated = &prometheus::BuildCounter()
                                .Name("kernel_messages_deduplicated_total")
                                .Help("Inputs deduplicate() dropped: their event id was completed within the window")
                                .Register(registry);
  instruments_.dead_letter_write_failures =
      &prometheus::BuildCounter()
           .Name("kernel_dead_letter_write_failures_total")
           .Help("Dead-letter (and error-topic) writes that failed and are sent again")
           .Register(registry)
           .Add({});
  auto& transactions = prometheus::BuildCounter()
                           .Name("kernel_transactions_total")
                           .Help("Kafka transactions ended under exactly-once delivery, by result")
                           .Register(registry);
  instruments_.transactions_committed = &transactions.Add({{"result", "committed"}});
  instruments_.transactions_aborted = &transactions.Add({{"result", "aborted"}});
  instruments_.trace_context_invalid =
      &prometheus::BuildCounter()
           .Name("kernel_trace_context_invalid_total")
           .Help("Inputs whose traceparent was replaced (malformed) or tracestate dropped")
           .Register(registry)
           .Add({});
  auto& fleet_commands = prometheus::BuildCounter()
                             .Name("kernel_fleet_commands_total")
                             .Help("Records of the control topic read, applied or malformed (ignored)")
                             .Register(registry);
  instruments_.fleet_commands_applied = &fleet_commands.Add({{"result", "applied"}});
  instruments_.fleet_commands_malformed = &fleet_commands.Add({{"result", "malformed"}});
}

TopicMetrics& KernelMetrics::input_topic(std::string_view topic) {
  std::lock_guard lock(topics_mutex_);
  auto it = topics_.find(topic);
  if (it != topics_.end()) return *it->second;
  auto metrics = std::make_unique<TopicMetrics>();
  metrics->topic = std::string(topic);
  const prometheus::Labels labels{{"topic", metrics->topic}};
  metrics->consumed = &families_.consumed->Add(labels);
  for (std::size_t i = 0; i < handled_outcome_count; ++i) {
    metrics->handled[i] = &families_.handled->Add(
        {{"topic", metrics->topic}, {"outcome", std::string(to_string(static_cast<HandledOutcome>(i)))}});
  }
  metrics->duration = &families_.duration->Add(labels, handler_duration_buckets());
  // Every reason from the start, at 0: a series that appears only with its first increment
  // hides that increment from rate() and increase().
  for (const auto reason : all_failure_reasons) {
    const prometheus::Labels by_reason{{"topic", metrics->topic}, {"reason", std::string(to_string(reason))}};
    metrics->retries[static_cast<std::size_t>(reason)] = &families_.retries->Add(by_reason);
    metrics->dead_letters[static_cast<std::size_t>(reason)] = &families_.dead_letters->Add(by_reason);
  }
  return *topics_.emplace(metrics->topic, std::move(metrics)).first->second;
}

TopicMetrics& KernelMetrics::input_topic_cached(std::string_view topic) {
  // Entries are published once (count stored last, with release) and only their metrics
  // pointer is ever replaced: readers on any thread need no lock.
  const auto published = cached_names_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < published; ++i) {
    auto& entry = by_name_address_[i];
    if (entry.address.load(std::memory_order_relaxed) != topic.data()) continue;
    auto* metrics = entry.metrics.load(std::memory_order_acquire);
    // The address finds it; the (short) comparison guards against a name freed and reused.
    if (metrics->topic != topic) {
      metrics = &input_topic(topic);
      entry.metrics.store(metrics, std::memory_order_release);
    }
    return *metrics;
  }
  auto& metrics = input_topic(topic);
  // Names of consumed messages live as long as their librdkafka topic; messages built in
  // tests each have their own, so the cache is bounded and they take the slow path.
  std::lock_guard lock(topics_mutex_);
  const auto count = cached_names_.load(std::memory_order_relaxed);
  if (count < by_name_address_.size()) {
    by_name_address_[count].address.store(topic.data(), std::memory_order_relaxed);
    by_name_address_[count].metrics.store(&metrics, std::memory_order_relaxed);
    cached_names_.store(count + 1, std::memory_order_release);
  }
  return metrics;
}

void KernelMetrics::identify(std::string_view kernel, std::string_view version) {
  families_.info->Add({{"kernel", std::string(kernel)}, {"version", std::string(version)}}).Set(1);
}

prometheus::Counter& KernelMetrics::produced(std::string_view topic) {
  auto it = produced_.find(topic);
  if (it == produced_.end()) {
    if (produced_.size() >= max_produced_topics) topic = "(other)";
    it = produced_.find(topic);
    if (it != produced_.end()) return *it->second;
    it = produced_.emplace(std::string(topic), &families_.produced->Add({{"topic", std::string(topic)}})).first;
  }
  return *it->second;
}

prometheus::Counter& KernelMetrics::deduplicated(std::string_view topic) {
  return families_.deduplicated->Add({{"topic", std::string(topic)}});  // the family locks itself
}

void KernelMetrics::set_lag(const std::string& topic, std::int32_t partition, std::int64_t lag) {
  const auto key = std::make_pair(topic, partition);
  auto it = lag_.find(key);
  if (lag < 0) {
    if (it != lag_.end()) {
      families_.lag->Remove(it->second);
      lag_.erase(it);
    }
    return;
  }
  if (it == lag_.end()) {
    it = lag_.emplace(key, &families_.lag->Add({{"topic", topic}, {"partition", std::to_string(partition)}})).first;
  }
  it->second->Set(static_cast<double>(lag));
}

void KernelMetrics::retain_lag(const std::vector<std::pair<std::string, std::int32_t>>& keep) {
  for (auto it = lag_.begin(); it != lag_.end();) {
    if (std::find(keep.begin(), keep.end(), it->first) == keep.end()) {
      families_.lag->Remove(it->second);
      it = lag_.erase(it);
    } else {
      ++it;
    }
  }
}

void KernelMetrics::serve_own_metrics(std::shared_ptr<Metrics> own,
                                      std::shared_ptr<const prometheus::Collectable> registry) {
  own_metrics_ = std::move(own);
  own_registry_ = std::move(registry);
}

std::string KernelMetrics::serialize() const {
  auto families = registry_->Collect();
  for (const prometheus::Collectable* more :
       {static_cast<const prometheus::Collectable*>(&process_), static_cast<const prometheus::Collectable*>(&client_),
        own_registry_.get()}) {
    if (!more) continue;
    auto collected = more->Collect();
    families.insert(families.end(), std::make_move_iterator(collected.begin()),
                    std::make_move_iterator(collected.end()));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace kernel::detail
