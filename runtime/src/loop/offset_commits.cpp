// At-least-once commits: the consumer's offsets (offset_commits.hpp).
#include "loop/offset_commits.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "loop/partition_state.hpp"
#include "ops/kernel_metrics.hpp"

namespace kernel::detail {

OffsetCommits::OffsetCommits(CommitHost& host, const Settings& settings, std::shared_ptr<spdlog::logger> log,
                             KernelMetrics* metrics, rd_kafka_t* consumer, rd_kafka_queue_t* consumer_queue)
    : CommitStrategy(host, settings, std::move(log), metrics), consumer_(consumer), consumer_queue_(consumer_queue) {}

CommitResult OffsetCommits::commit(bool synchronous, const rd_kafka_topic_partition_list_t* only) {
  auto offsets = committable_offsets(only);
  if (offsets->cnt == 0) return CommitResult::done;
  if (!synchronous) {
    // The result comes back through the consumer queue, served by rd_kafka_consumer_poll().
    rd_kafka_commit_queue(consumer_, offsets.get(), consumer_queue_, &OffsetCommits::on_commit, this);
    return CommitResult::done;
  }
  // Without a queue the call blocks and hands on_commit the broker's answer per partition. A
  // plain rd_kafka_commit() would leave the per-partition errors of `offsets` unwritten.
  const auto err = rd_kafka_commit_queue(consumer_, offsets.get(), nullptr, &OffsetCommits::on_commit, this);
  if (err) return CommitResult::refused;
  for (int i = 0; i < offsets->cnt; ++i) {
    const auto& tp = offsets->elems[i];
    const auto* partition = host_.find_partition(tp.topic, tp.partition);
    if (partition && partition->committed < tp.offset) return CommitResult::refused;  // refused for this partition
  }
  return CommitResult::done;
}

void OffsetCommits::on_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                              void* opaque) {
  auto* self = static_cast<OffsetCommits*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
  if (err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS || err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
      err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID) {
    // The group is rebalancing: commit again once it has finished. A commit sent meanwhile can
    // wait behind this member's JoinGroup on the coordinator connection and be answered with
    // the old generation's ILLEGAL_GENERATION, which librdkafka 2.0.2 takes for the loss of the
    // whole assignment (librdkafka issue 4059): the member drops every partition and redoes
    // all it handled since its last commit. Nothing was recorded, so the next commit tries again.
    self->log_->debug("commit not accepted ({}); will commit after the rebalance", rd_kafka_err2str(err));
    self->hold_commits(Clock::now());
    return;
  }
  if (err) {
    self->log_->debug("commit not accepted ({}); will retry", rd_kafka_err2str(err));
    return;
  }
  bool any = false;
  for (int i = 0; offsets && i < offsets->cnt; ++i) {
    const auto& tp = offsets->elems[i];
    if (tp.err) {
      self->log_->debug("commit of {}[{}]@{} not accepted ({}); will retry", tp.topic, tp.partition, tp.offset,
                        rd_kafka_err2str(tp.err));
      continue;
    }
    if (tp.offset < 0) continue;
    any = true;
    if (auto* partition = self->host_.find_partition(tp.topic, tp.partition)) mark_committed(*partition, tp.offset);
  }
  if (any && self->metrics_) self->metrics_->commits().Increment();
}

CommitResult OffsetCommits::revoked(const rd_kafka_topic_partition_list_t* partitions, bool lost) {
  if (!lost) return commit(true, partitions);
  // Lost: the generation is gone and the coordinator would refuse the offsets. Remembered in
  // case the partitions come back (a commit answered with a stale generation loses them all).
  for (int i = 0; i < partitions->cnt; ++i) {
    auto* partition = host_.find_partition(partitions->elems[i].topic, partitions->elems[i].partition);
    const auto offset = partition ? partition->tracker.commit_offset() : std::nullopt;
    if (offset && *offset > partition->committed) {
      lost_progress_[{partition->topic, partition->partition}] = *offset;
    }
  }
  return CommitResult::done;
}

void OffsetCommits::assigned(rd_kafka_topic_partition_list_t* partitions) {
  // Partitions this member lost and now has back: if the group's committed offset is still
  // below what the member had completed, everything between the two was handled here with
  // its outputs acknowledged, and no one has committed beyond it. Start there and commit it
  // rather than handle it all again. If the committed offsets cannot be read, start from them
  // as usual.
  if (lost_progress_.empty()) return;
  PartitionListPtr query(rd_kafka_topic_partition_list_new(partitions->cnt));
  for (int i = 0; i < partitions->cnt; ++i) {
    if (lost_progress_.count({partitions->elems[i].topic, partitions->elems[i].partition})) {
      rd_kafka_topic_partition_list_add(query.get(), partitions->elems[i].topic, partitions->elems[i].partition);
    }
  }
  if (query->cnt == 0) return;
  const auto timeout = std::min<std::chrono::milliseconds>(settings_.session_timeout, std::chrono::milliseconds(5000));
  const auto err = rd_kafka_committed(consumer_, query.get(), static_cast<int>(timeout.count()));
  if (err) log_->warn("reading committed offsets failed ({}); lost partitions start from them", rd_kafka_err2str(err));
  for (int i = 0; i < query->cnt; ++i) {
    const auto& tp = query->elems[i];
    const auto it = lost_progress_.find({tp.topic, tp.partition});
    const auto progress = it->second;
    lost_progress_.erase(it);
    if (err || tp.err || progress <= tp.offset) continue;  // offset: RD_KAFKA_OFFSET_INVALID when none
    auto* partition = host_.find_partition(tp.topic, tp.partition);
    rd_kafka_topic_partition_list_find(partitions, tp.topic, tp.partition)->offset = progress;
    partition->tracker.resume_at(progress);
    partition->committed = std::max<std::int64_t>(tp.offset, -1);
    log_->info("{}[{}] resumes at {}, where this member had completed it before it was lost ({})", tp.topic,
               tp.partition, progress,
               tp.offset >= 0 ? fmt::format("committed: {}", tp.offset) : std::string("nothing committed"));
  }
}

}  // namespace kernel::detail
