#pragma once
// Exactly-once commits (KERNEL_DELIVERY=exactly_once, docs/exactly-once.md): the completed
// prefixes are committed in the producer's transaction instead of by the consumer, and an
// aborted transaction sends every assigned partition back to its last committed offset so its
// work is done again. The transaction itself is loop/transactions.{hpp,cpp}.
//
// Besides the CommitStrategy interface, the loop calls a few steps per record (begin, hold,
// produced, record_failed) through CommitStrategy::exactly_once(): non-virtual, and never
// under at-least-once.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "loop/commit_strategy.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"
#include "loop/retry_policy.hpp"
#include "loop/transactions.hpp"

namespace kernel::detail {

class ExactlyOnceCommits final : public CommitStrategy {
 public:
  /// `transaction` is initialised (Transaction::init); `producer` is its producer.
  ExactlyOnceCommits(CommitHost& host, const Settings& settings, std::shared_ptr<spdlog::logger> log,
                     KernelMetrics* metrics, rd_kafka_t* producer, std::unique_ptr<Transaction> transaction);
  ~ExactlyOnceCommits() override;

  /// Flushes the outputs and commits the completed prefixes of every partition in the
  /// transaction (`only` and `synchronous` do not apply: one transaction covers them all).
  CommitResult commit(bool synchronous, const rd_kafka_topic_partition_list_t* only = nullptr) override;
  /// Records held behind an input that will not be concluded here are not produced (the next
  /// owner handles them again).
  void revoking(const rd_kafka_topic_partition_list_t* partitions) override;
  /// Commits; or, when `lost`, aborts: the generation is gone and the coordinator would refuse
  /// its offsets. The new owners redo the lost partitions' work, this member the rest from its
  /// committed offsets.
  CommitResult revoked(const rd_kafka_topic_partition_list_t* partitions, bool lost) override;
  CommitResult abort() override;
  /// Resumes the partitions rewound by an abort once their backoff is over.
  void tick(Clock::time_point now) override;
  std::string fatal_reason() const override;

  /// Begins the transaction before a produce (lazily); false when the producer failed for good.
  bool begin() { return transaction_->open() || transaction_->begin(); }
  /// A record of `entry` was accepted by librdkafka into the open transaction.
  static void produced(const InFlight& entry) noexcept {
    auto& produced = entry.owner->produced_in_transaction;
    produced = std::max(produced, entry.offset);
  }
  /// A record of the open transaction was not delivered: librdkafka will not commit it, so it
  /// is aborted at once (must_abort(); the loop, or the commit waiting for it). An output
  /// refused for good marks its input undeliverable. True when the record is given up here
  /// (the loop no longer counts it pending); false when the usual handling applies (a revoked
  /// partition's record, a purge during an abort, a fatal error).
  bool record_failed(const rd_kafka_message_t& message, const Delivery& delivery);
  /// An input an output of which failed for good in an aborted transaction: why, and it is
  /// forgotten (the loop dead-letters it, output_failed, instead of handling it again).
  static std::optional<std::string> take_undeliverable(PartitionState& partition, std::int64_t offset);

  // With workers, a concluded call's records wait until every lower offset of its partition
  // is concluded, so each transaction holds only records of inputs its offsets commit.
  /// Keeps `record` until release_held() (the loop no longer counts it pending).
  static void hold(Resend record);
  /// Hands `produce`, in offset order, the held records of the entries concluded from the
  /// partition's `released_until` on, up to the first entry that is not.
  template <typename Produce>
  static void release_held(PartitionState& partition, Produce&& produce);
  /// Forgets the held records of a partition whose unconcluded work is dropped (revoked, rewound).
  static void drop_held(PartitionState& partition) noexcept;

  /// How many times a partition had a record in a committed transaction whose input offset that
  /// commit did not cover (KernelLoop::outputs_ahead_of_commit()).
  std::size_t outputs_ahead_of_commit() const noexcept { return outputs_ahead_of_commit_; }

 private:
  CommitResult end_transaction(Transaction::Result result, const rd_kafka_topic_partition_list_t* offsets);
  /// Notes, before a transaction commits, each partition whose records in it include one of an
  /// input the commit does not cover (outputs_ahead_of_commit()).
  void check_commit_covers_outputs(const rd_kafka_topic_partition_list_t* offsets);

  rd_kafka_t* producer_;
  std::unique_ptr<Transaction> transaction_;
  RetryPolicy retry_policy_;  // the redo's backoff after an abort
  std::size_t outputs_ahead_of_commit_ = 0;
  /// Transactions aborted since the last commit that carried offsets; the rewound partitions
  /// wait the backoff of retry number aborts_in_a_row_ before the redo.
  int aborts_in_a_row_ = 0;
  /// When the partitions rewound by the last abort start again (none waiting: nullopt).
  std::optional<Clock::time_point> redo_due_;
};

template <typename Produce>
void ExactlyOnceCommits::release_held(PartitionState& partition, Produce&& produce) {
  while (auto* entry = partition.tracker.first_from(partition.released_until)) {
    if (!entry->handled) return;                   // not concluded (running, waiting for a retry): what follows waits
    partition.released_until = entry->offset + 1;  // first: its records are produced directly from now on
    const auto it = partition.held_records.find(entry->offset);
    if (it == partition.held_records.end()) continue;
    auto records = std::move(it->second);
    partition.held_records.erase(it);
    for (auto& record : records) produce(record);
  }
}

}  // namespace kernel::detail
