#pragma once
// kernel-admin dlq: one bounded pass over a dead-letter topic, from the beginning to the end
// offsets taken when the command starts.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "connection.hpp"
#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/jsonl.hpp"

namespace kernel::tools::dlq {

/// One partition of a topic and the part of it a command reads: [low, end), both taken at start.
struct PartitionRange {
  std::int32_t partition = 0;
  std::int64_t low = 0;
  std::int64_t end = 0;
};

/// A consumer in `group` that reads a topic through once: from the beginning, reporting each
/// partition's end, never committing or storing offsets by itself; `overrides` add to that.
detail::HandlePtr reader(Connection& connection, const std::string& group, const Overrides& overrides = {});

/// The partitions of `topic` with their watermarks now. A missing topic is Failure 69.
std::vector<PartitionRange> ranges(Connection& connection, rd_kafka_t* client, const std::string& topic);

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
