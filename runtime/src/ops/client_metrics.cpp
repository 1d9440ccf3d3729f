#include "ops/client_metrics.hpp"

#include <array>
#include <charconv>
#include <utility>

#include <nlohmann/json.hpp>

namespace kernel::detail {

namespace {

using nlohmann::json;

/// A count librdkafka reports (an unsigned integer), or nullopt.
std::optional<std::uint64_t> count_at(const json& object, const char* key) {
  const auto found = object.find(key);
  if (found == object.end() || !found->is_number_unsigned()) return std::nullopt;
  return found->get<std::uint64_t>();
}

/// A round trip in microseconds as seconds; a value past an hour is not a round trip.
std::optional<double> seconds_at(const json& window, const char* key) {
  const auto micros = count_at(window, key);
  if (!micros || *micros > 3'600'000'000ull) return std::nullopt;
  return static_cast<double>(*micros) / 1e6;
}

std::string_view text_at(const json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? std::string_view(found->get_ref<const std::string&>())
                                                     : std::string_view();
}

// Names land in label values: short and printable, or the entry is skipped.
bool fit_for_label(std::string_view text) {
  if (text.empty() || text.size() > 255) return false;
  for (const unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

void read_brokers(const json& brokers, ClientStatistics& statistics) {
  if (!brokers.is_object()) return;
  for (const auto& [key, broker] : brokers.items()) {
    if (statistics.brokers.size() >= max_reported_brokers) break;
    if (!broker.is_object()) continue;
    // The bootstrap and internal brokers, and the coordinator's logical one, repeat a real one.
    const auto source = text_at(broker, "source");
    const auto node = broker.find("nodeid");
    if (source == "internal" || source == "logical" || node == broker.end() || !node->is_number_integer() ||
        node->get<std::int64_t>() < 0) {
      continue;
    }
    const auto name = text_at(broker, "name");
    if (!fit_for_label(name)) continue;
    BrokerStatistics entry{std::string(name), std::nullopt, std::nullopt, count_at(broker, "txerrs")};
    if (const auto rtt = broker.find("rtt"); rtt != broker.end() && rtt->is_object() && count_at(*rtt, "cnt") > 0u) {
      entry.rtt_p50_seconds = seconds_at(*rtt, "p50");
      entry.rtt_p99_seconds = seconds_at(*rtt, "p99");
    }
    statistics.brokers.push_back(std::move(entry));
  }
}

void read_partitions(const json& topics, ClientStatistics& statistics) {
  if (!topics.is_object()) return;
  for (const auto& [topic_name, topic] : topics.items()) {
    if (!topic.is_object() || !fit_for_label(topic_name)) continue;
    const auto partitions = topic.find("partitions");
    if (partitions == topic.end() || !partitions->is_object()) continue;
    for (const auto& [key, partition] : partitions->items()) {
      if (statistics.partitions.size() >= max_reported_partitions) return;
      std::int32_t id = -1;
      const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), id);
      // -1 is librdkafka's unassigned partition; "none" a partition it is not fetching.
      if (error != std::errc() || end != key.data() + key.size() || id < 0 || !partition.is_object() ||
          text_at(partition, "fetch_state") == "none") {
        continue;
      }
      if (const auto queued = count_at(partition, "fetchq_cnt")) {
        statistics.partitions.push_back({topic_name, id, *queued});
      }
    }
  }
}

prometheus::ClientMetric labelled(std::vector<prometheus::ClientMetric::Label> labels) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  return metric;
}

}  // namespace

std::optional<ClientStatistics> parse_client_statistics(std::string_view text) {
  if (text.size() > max_statistics_bytes) return std::nullopt;
  // nlohmann 3.11 parses and destroys without recursion: a deep document costs no stack.
  const auto report = json::parse(text, nullptr, false);
  if (report.is_discarded() || !report.is_object()) return std::nullopt;
  ClientStatistics statistics;
  statistics.client = text_at(report, "type");
  if (statistics.client != "consumer" && statistics.client != "producer") return std::nullopt;
  if (const auto brokers = report.find("brokers"); brokers != report.end()) read_brokers(*brokers, statistics);
  if (statistics.client == "consumer") {
    if (const auto topics = report.find("topics"); topics != report.end()) read_partitions(*topics, statistics);
  } else {
    statistics.producer_queue_messages = count_at(report, "msg_cnt");
  }
  return statistics;
}

bool ClientMetrics::update(std::string_view report) {
  auto statistics = parse_client_statistics(report);
  if (!statistics) return false;
  std::lock_guard lock(mutex_);
  for (auto& latest : latest_) {
    if (latest.client == statistics->client) {
      latest = std::move(*statistics);
      return true;
    }
  }
  latest_.push_back(std::move(*statistics));
  return true;
}

std::vector<prometheus::MetricFamily> ClientMetrics::Collect() const {
  using prometheus::MetricType;
  prometheus::MetricFamily rtt{"kernel_client_broker_rtt_seconds",
                               "Round-trip time to each broker over the last statistics interval, by quantile",
                               MetricType::Gauge,
                               {}};
  prometheus::MetricFamily errors{
      "kernel_client_transmit_errors_total", "Requests to each broker that failed to be sent", MetricType::Counter, {}};
  prometheus::MetricFamily fetch_queue{"kernel_client_partition_fetch_queue_messages",
                                       "Messages fetched for a partition and not yet polled by the kernel",
                                       MetricType::Gauge,
                                       {}};
  prometheus::MetricFamily producer_queue{"kernel_client_producer_queue_messages",
                                          "Messages in the producer's queue, not yet acknowledged by the broker",
                                          MetricType::Gauge,
                                          {}};
  {
    std::lock_guard lock(mutex_);
    for (const auto& client : latest_) {
      for (const auto& broker : client.brokers) {
        const std::array<std::pair<const char*, std::optional<double>>, 2> quantiles{
            {{"0.5", broker.rtt_p50_seconds}, {"0.99", broker.rtt_p99_seconds}}};
        for (const auto& [quantile, value] : quantiles) {
          if (!value) continue;
          auto metric = labelled({{"client", client.client}, {"broker", broker.name}, {"quantile", quantile}});
          metric.gauge.value = *value;
          rtt.metric.push_back(std::move(metric));
        }
        if (broker.transmit_errors) {
          auto metric = labelled({{"client", client.client}, {"broker", broker.name}});
          metric.counter.value = static_cast<double>(*broker.transmit_errors);
          errors.metric.push_back(std::move(metric));
        }
      }
      for (const auto& partition : client.partitions) {
        auto metric = labelled({{"topic", partition.topic}, {"partition", std::to_string(partition.partition)}});
        metric.gauge.value = static_cast<double>(partition.fetch_queue_messages);
        fetch_queue.metric.push_back(std::move(metric));
      }
      if (client.producer_queue_messages) {
        prometheus::ClientMetric metric;
        metric.gauge.value = static_cast<double>(*client.producer_queue_messages);
        producer_queue.metric.push_back(std::move(metric));
      }
    }
  }
  std::vector<prometheus::MetricFamily> families;
  for (auto* family : {&rtt, &errors, &fetch_queue, &producer_queue}) {
    if (!family->metric.empty()) families.push_back(std::move(*family));
  }
  return families;
}

}  // namespace kernel::detail
