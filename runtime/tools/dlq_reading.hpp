#pragma once
// kernel-admin dlq: clients configured like a kernel's, and one bounded pass over a
// dead-letter topic, from the beginning to the end offsets taken when the command starts.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <spdlog/logger.h>

#include "kernel/config.hpp"
#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/jsonl.hpp"

namespace kernel::tools::dlq {

using Overrides = std::vector<std::pair<std::string, std::string>>;
using RebalanceHandler = std::function<void(rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*)>;

/// One partition of a topic and the part of it a command reads: [low, end), both taken at start.
struct PartitionRange {
  std::int32_t partition = 0;
  std::int64_t low = 0;
  std::int64_t end = 0;
};

/// The clients of one command: KAFKA_BOOTSTRAP_SERVERS, TLS, SASL and KAFKA_PROPERTY_* as a
/// kernel has them. Every request is bounded by `timeout_ms`; an authentication or TLS
/// refusal any client reports ends the command with 77.
class Connection {
 public:
  Connection(const Config& config, int timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// A consumer in `group`; it never creates a topic, and joins the group only if subscribed.
  detail::HandlePtr consumer(const std::string& group, const Overrides& overrides = {});
  /// A producer configured like a kernel's (idempotence, acks, compression); `on_delivery`
  /// gets every delivery report.
  detail::HandlePtr producer(void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*));
  /// Called from rd_kafka_consumer_poll() of a subscribed consumer on each rebalance.
  void on_rebalance(RebalanceHandler handler);

  /// Every topic and its partition count (an all-topics request, which never creates one).
  std::map<std::string, int> topics(rd_kafka_t* client);
  /// The partitions of `topic` with their watermarks now. A missing topic is Failure 69.
  std::vector<PartitionRange> ranges(rd_kafka_t* client, const std::string& topic);
  /// Throws Failure 77 if a client has reported an authentication or TLS refusal.
  void check_refusal() const;

  const std::string& servers() const noexcept { return config_.settings().bootstrap_servers; }
  int timeout_ms() const noexcept { return timeout_ms_; }

 private:
  struct Events;
  void configure(rd_kafka_conf_t* conf, const std::vector<Property>& properties, const Overrides& overrides);

  const Config& config_;
  int timeout_ms_;
  std::unique_ptr<Events> events_;  // the clients' opaque: must outlive them
  std::shared_ptr<spdlog::logger> log_;
};

/// One pass over [low, end) of every partition of a topic. Records arrive in offset order
/// within a partition; a partition that yields nothing for the timeout is Failure 69, so a
/// pass always ends.
class Scan {
 public:
  /// What to do with each record (also given as librdkafka has it: a null value stays
  /// distinguishable from an empty one); false stops the pass.
  using OnRecord = std::function<bool(const jsonl::Record&, const rd_kafka_message_t&)>;

  Scan(Connection& connection, rd_kafka_t* reader, std::string topic, std::vector<PartitionRange> ranges);

  /// Reads one partition after the other, each from its beginning, so that records come in
  /// partition and offset order (for a reader that never subscribes).
  void assign_in_order();
  /// Polls until every partition reached its end, or `on_record` or `between` says stop
  /// (false). `between` runs after each poll (serving a producer, committing, showing progress).
  void run(const OnRecord& on_record, const std::function<bool()>& between = {});

  const std::vector<PartitionRange>& ranges() const noexcept { return ranges_; }
  /// Records between the low watermarks and the ends.
  std::int64_t total() const noexcept;
  std::int64_t read() const noexcept { return read_; }

 private:
  bool finished(std::int32_t partition) const;
  void finish(std::int32_t partition);
  void assign_next();

  Connection& connection_;
  rd_kafka_t* reader_;
  std::string topic_;
  std::vector<PartitionRange> ranges_;
  std::map<std::int32_t, bool> done_;
  std::int64_t read_ = 0;
  bool in_order_ = false;
};

}  // namespace kernel::tools::dlq
