#pragma once
// Asks the brokers, on a thread of its own, what the consumer's fetches no longer tell: the
// watermarks of paused partitions. librdkafka caches watermarks from fetch responses, and a
// paused partition has none, so without this its lag would freeze at the moment it paused and
// a dashboard would say "all fine" while nothing is handled.
//
// It also notices when a broker answers again after the consumer reported every broker down
// (OpsState::brokers_down, from the error callback): librdkafka has no callback for that, so
// while they are reported down it asks for metadata once a second.
//
// rd_kafka_query_watermark_offsets() blocks for a round trip (or its timeout when a broker is
// away): here it never holds up the loop. The loop hands over what to watch and takes the
// latest answers with try-locks only.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "ops/ops_state.hpp"

namespace kernel::detail {

class ClusterWatch {
 public:
  struct Watermarks {
    std::int64_t low = -1;
    std::int64_t high = -1;
    bool operator==(const Watermarks&) const = default;
  };

  /// `consumer` and `state` must outlive this object (the loop's consumer: librdkafka's calls
  /// are thread-safe). Queries watermarks every `interval`, each bounded by `timeout`.
  ClusterWatch(rd_kafka_t* consumer, OpsState& state, std::chrono::milliseconds interval = std::chrono::seconds(3),
               std::chrono::milliseconds timeout = std::chrono::seconds(1));
  /// Waits for a query under way (at most `timeout`).
  ~ClusterWatch();
  ClusterWatch(const ClusterWatch&) = delete;
  ClusterWatch& operator=(const ClusterWatch&) = delete;

  // --- Loop thread, once per status publication: begin_round(), then watch() each paused
  // partition, then end_round().
  void begin_round() noexcept { wanted_count_ = 0; }
  void watch(const std::string& topic, std::int32_t partition);
  /// Hands the partitions over and takes the latest answers; never waits (if the watcher
  /// holds the lock right now, this round is skipped).
  void end_round();
  /// The watermarks last queried for a partition watched in an earlier round.
  std::optional<Watermarks> latest(const std::string& topic, std::int32_t partition) const;

 private:
  using Partition = std::pair<std::string, std::int32_t>;
  void run();

  rd_kafka_t* consumer_;
  OpsState& state_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds timeout_;

  // Loop thread only.
  std::vector<Partition> wanted_;  // the first wanted_count_ are this round's
  std::size_t wanted_count_ = 0;
  std::map<Partition, Watermarks> seen_;

  // Shared, under mutex_.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Partition> watched_;
  std::map<Partition, Watermarks> found_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace kernel::detail
