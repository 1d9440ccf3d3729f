// Exactly-once commits (exactly_once_commits.hpp): the completed prefixes go into the
// producer's transaction; an abort rewinds every assigned partition to its committed offset.
#include "loop/exactly_once_commits.hpp"

#include <utility>

#include "log/logging.hpp"
#include "loop/produce_errors.hpp"
#include "ops/kernel_metrics.hpp"

namespace kernel::detail {

ExactlyOnceCommits::ExactlyOnceCommits(CommitHost& host, const Settings& settings, std::shared_ptr<spdlog::logger> log,
                                       KernelMetrics* metrics, rd_kafka_t* producer,
                                       std::unique_ptr<Transaction> transaction)
    : CommitStrategy(host, settings, std::move(log), metrics),
      producer_(producer),
      transaction_(std::move(transaction)),
      retry_policy_(settings.retry_backoff, settings.retry_backoff_max, settings.retry_multiplier,
                    settings.retry_jitter) {
  exactly_once_ = this;
}

ExactlyOnceCommits::~ExactlyOnceCommits() = default;

CommitResult ExactlyOnceCommits::commit(bool, const rd_kafka_topic_partition_list_t*) {
  // Every message produced in this transaction must belong to an input whose offset it
  // commits: a crash after the commit must not leave an output visible whose input is then
  // handled again. So first let every output be acknowledged: each input whose records were
  // produced then completes, and the completed prefixes cover all of them. On the loop thread
  // alone, an input waiting for a retry has produced nothing and nothing after it has been
  // handled. With workers, later offsets (other keys) are handled meanwhile, but their records
  // are held (must_hold()) until every offset below theirs is concluded: nothing produced
  // lies beyond an unfinished input.
  const auto deadline = wait_deadline();
  if (host_.failed()) return CommitResult::fatal;  // fenced or failed: nothing more can be sent
  host_.wait_for_outputs(deadline);
  if (host_.failed()) return CommitResult::fatal;
  if (must_abort_) return end_transaction(Transaction::Result::must_abort, nullptr);
  if (const auto pending = host_.pending_outputs(); pending > 0) {
    // Not acknowledged in time: in a transaction librdkafka then refuses the commit anyway.
    // Redo the work.
    log_->warn("{} not acknowledged before the transaction's commit; aborting it", count_of(pending, "output"));
    return end_transaction(Transaction::Result::must_abort, nullptr);
  }
  auto offsets = committable_offsets(nullptr);
  check_commit_covers_outputs(offsets.get());
  const bool anything = transaction_->open() || offsets->cnt > 0;
  const auto result = transaction_->commit(offsets.get(), deadline);
  if (result == Transaction::Result::committed && anything && metrics_) metrics_->transactions(true).Increment();
  return end_transaction(result, offsets.get());
}

CommitResult ExactlyOnceCommits::end_transaction(Transaction::Result result,
                                                 const rd_kafka_topic_partition_list_t* offsets) {
  switch (result) {
    case Transaction::Result::committed:
      host_.each_partition([](PartitionState& partition) { partition.produced_in_transaction = -1; });
      if (offsets && offsets->cnt > 0) {
        aborts_in_a_row_ = 0;  // progress: the next abort's redo waits the first backoff again
        for (int i = 0; i < offsets->cnt; ++i) {
          if (auto* partition = host_.find_partition(offsets->elems[i].topic, offsets->elems[i].partition)) {
            mark_committed(*partition, offsets->elems[i].offset);
          }
        }
        if (metrics_) metrics_->commits().Increment();
      }
      return CommitResult::done;
    case Transaction::Result::must_abort:
    case Transaction::Result::aborted: {
      must_abort_ = false;
      // The redo waits a backoff that grows with each abort in a row, as a failing dead-letter
      // write does under at-least-once: what failed (a broker away, a dead-letter topic that
      // refuses every write) would most likely fail again at once.
      ++aborts_in_a_row_;
      // Retire what the transaction covered first: aborting purges its unsent messages and
      // serves their delivery reports, which must find retired entries and give up.
      const auto delay = retry_policy_.delay(aborts_in_a_row_);
      if (host_.rewind_to_committed(delay)) {
        redo_due_ = Clock::now() + delay;
        host_.wake_at(*redo_due_);
      }
      if (result == Transaction::Result::must_abort &&
          transaction_->abort(wait_deadline()) == Transaction::Result::fatal) {
        return end_transaction(Transaction::Result::fatal, nullptr);
      }
      if (metrics_) metrics_->transactions(false).Increment();
      return CommitResult::aborted;
    }
    case Transaction::Result::fatal: return CommitResult::fatal;
  }
  return CommitResult::fatal;
}

CommitResult ExactlyOnceCommits::abort() {
  const auto result =
      transaction_->open() ? end_transaction(Transaction::Result::must_abort, nullptr) : CommitResult::done;
  must_abort_ = false;
  return result;
}

void ExactlyOnceCommits::revoking(const rd_kafka_topic_partition_list_t* partitions) {
  for (int i = 0; i < partitions->cnt; ++i) {
    if (auto* partition = host_.find_partition(partitions->elems[i].topic, partitions->elems[i].partition)) {
      drop_held(*partition);
    }
  }
}

CommitResult ExactlyOnceCommits::revoked(const rd_kafka_topic_partition_list_t* partitions, bool lost) {
  return lost ? abort() : commit(true, partitions);
}

void ExactlyOnceCommits::tick(Clock::time_point now) {
  if (!redo_due_) return;
  if (now < *redo_due_) {
    host_.wake_at(*redo_due_);
    return;
  }
  redo_due_.reset();
  host_.resume_rewound();
}

std::string ExactlyOnceCommits::fatal_reason() const { return transaction_->fatal_reason(); }

bool ExactlyOnceCommits::record_failed(const rd_kafka_message_t& message, const Delivery& delivery) {
  auto& entry = *delivery.entry;
  const auto kind = classify_produce_error(message.err);
  if (entry.owner->retired || kind == ProduceErrorKind::fatal ||
      rd_kafka_fatal_error(producer_, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return false;
  }
  // Sending it again cannot help: librdkafka refuses to commit a transaction one of whose
  // messages failed. Given up (by the sender); nothing is committed before the abort, which redoes it.
  const auto* topic = rd_kafka_topic_name(message.rkt);
  if (!delivery.dead_letter && kind != ProduceErrorKind::passing) {
    // Refused for good: done again it would fail again, and every transaction with it. When
    // its input comes round again it is dead-lettered instead, as at-least-once does.
    entry.owner->undeliverable.try_emplace(entry.offset, fmt::format("{}: {}", topic, rd_kafka_err2str(message.err)));
  }
  if (delivery.dead_letter && kind == ProduceErrorKind::too_large) ++entry.owner->dead_letter_too_large[entry.offset];
  if (!must_abort_) {
    log_->warn("{} to {} of transaction {} not delivered ({}); aborting it: its work is done again",
               delivery.dead_letter ? "a dead letter" : "an output", topic, transaction_->id(),
               rd_kafka_err2str(message.err));
  }
  must_abort_ = true;
  return true;
}

std::optional<std::string> ExactlyOnceCommits::take_undeliverable(PartitionState& partition, std::int64_t offset) {
  const auto it = partition.undeliverable.find(offset);
  if (it == partition.undeliverable.end()) return std::nullopt;
  auto reason = std::move(it->second);
  partition.undeliverable.erase(it);
  return reason;
}

void ExactlyOnceCommits::hold(Resend record) {
  // Still counted in its entry's pending_acks (its input is not complete); the loop no longer
  // counts it pending: a commit waits only for what was produced.
  auto& entry = *record.delivery->entry;
  entry.owner->held_records[entry.offset].push_back(std::move(record));
}

void ExactlyOnceCommits::drop_held(PartitionState& partition) noexcept {
  for (auto& [offset, records] : partition.held_records) {
    for (const auto& record : records) --record.delivery->entry->pending_acks;
  }
  partition.held_records.clear();
}

void ExactlyOnceCommits::check_commit_covers_outputs(const rd_kafka_topic_partition_list_t* offsets) {
  host_.each_partition([&](PartitionState& partition) {
    if (partition.produced_in_transaction < 0) return;
    const auto* sent =
        offsets ? rd_kafka_topic_partition_list_find(offsets, partition.topic.c_str(), partition.partition) : nullptr;
    const auto covered = sent ? sent->offset : partition.committed;
    if (partition.produced_in_transaction < covered) return;
    ++outputs_ahead_of_commit_;
    log_->error("{}[{}]: the transaction holds a record of input offset {}, which its commit ({}) does not cover",
                partition.topic, partition.partition, partition.produced_in_transaction, covered);
  });
}

}  // namespace kernel::detail
