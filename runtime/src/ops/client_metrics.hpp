#pragma once
// The librdkafka statistics a kernel serves as metrics when KERNEL_CLIENT_METRICS is true
// (docs/operations.md): broker round trips, fetch queues, the producer queue and transmit
// errors, each client's latest report (statistics.interval.ms) kept whole and turned into
// metric families at scrape time, so a broker or a partition no longer reported goes away.
//
// The report is untrusted input: its size, its counts of brokers and partitions and each value
// are bounded; a field missing or of another type is skipped, never guessed.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace kernel::detail {

struct BrokerStatistics {
  std::string name;  ///< host:port/id as librdkafka names it
  std::optional<double> rtt_p50_seconds, rtt_p99_seconds;
  std::optional<std::uint64_t> transmit_errors;
};

struct PartitionStatistics {
  std::string topic;
  std::int32_t partition = 0;
  std::uint64_t fetch_queue_messages = 0;
};

/// What one report of one client says that the metrics use.
struct ClientStatistics {
  std::string client;  ///< consumer or producer (the report's `type`)
  std::vector<BrokerStatistics> brokers;
  std::vector<PartitionStatistics> partitions;  ///< a consumer's, being fetched
  std::optional<std::uint64_t> producer_queue_messages;
};

/// Bounds on one report: past them the rest is left out.
inline constexpr std::size_t max_statistics_bytes = 16 * 1024 * 1024;
inline constexpr std::size_t max_reported_brokers = 256;
inline constexpr std::size_t max_reported_partitions = 10'000;

/// Reads a librdkafka statistics report (its JSON text); nullopt when it is not one (not JSON,
/// too big, no `type` of consumer or producer).
std::optional<ClientStatistics> parse_client_statistics(std::string_view json);

class ClientMetrics : public prometheus::Collectable {
 public:
  /// Keeps `report` as its client's latest (the loop's thread, every statistics.interval.ms).
  /// False when it was not a report (nothing changes).
  bool update(std::string_view report);
  /// kernel_client_* from each client's latest report (the HTTP thread).
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mutex_;
  std::vector<ClientStatistics> latest_;  // one per client
};

}  // namespace kernel::detail
