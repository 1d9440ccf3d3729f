#pragma once
// At-least-once commits (KERNEL_DELIVERY=at_least_once): the consumer commits each partition's
// completed prefix, asynchronously every KAFKA_CONSUMER_COMMIT_INTERVAL and synchronously on
// revocation and at shutdown. The progress of lost partitions is remembered, in case they come back.
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "loop/commit_strategy.hpp"

namespace kernel::detail {

class OffsetCommits final : public CommitStrategy {
 public:
  /// `consumer` commits; the results of asynchronous commits come back through `consumer_queue`
  /// (served by rd_kafka_consumer_poll()). Both outlive this object.
  OffsetCommits(CommitHost& host, const Settings& settings, std::shared_ptr<spdlog::logger> log, KernelMetrics* metrics,
                rd_kafka_t* consumer, rd_kafka_queue_t* consumer_queue);

  CommitResult commit(bool synchronous, const rd_kafka_topic_partition_list_t* only = nullptr) override;
  CommitResult revoked(const rd_kafka_topic_partition_list_t* partitions, bool lost) override;
  void assigned(rd_kafka_topic_partition_list_t* partitions) override;

 private:
  /// rd_kafka_commit_queue's callback (opaque: this), with the broker's answer per partition.
  static void on_commit(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                        void* opaque);

  rd_kafka_t* consumer_;
  rd_kafka_queue_t* consumer_queue_;
  // Where the completed work of partitions librdkafka declared lost had got to (the commit
  // offset that could not be committed). If the same partitions come back and the group's
  // committed offset is still below it, the loop resumes from there instead of redoing it.
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> lost_progress_;
};

}  // namespace kernel::detail
