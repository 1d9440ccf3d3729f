// The stop: what is in flight is finished within KERNEL_SHUTDOWN_TIMEOUT (calls on workers
// return, outputs are acknowledged), what completed is committed, the group is left, and the
// exit code says what could not be done.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "core/partition_list.hpp"
#include "log/logging.hpp"
#include "loop/commit_strategy.hpp"
#include "loop/kernel_loop.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

int KernelLoop::shutdown() {
  if (ops_) ops_->set_phase(Phase::stopping);  // /readyz: 503 from now on
  // Every wait below, the revocation's included, ends by this deadline; the rest of
  // KERNEL_SHUTDOWN_TIMEOUT is left for closing the consumer (leaving the group).
  stop_deadline_ = Clock::now() + settings().shutdown_timeout -
                   std::min<milliseconds>(settings().shutdown_timeout / 5, milliseconds(2000));
  log_->info("stopping: finishing {}", count_of(table_.in_flight(), "in-flight message"));
  if (executor_) executor_->hand_over_collected();  // what was collected is handed over, then committed
  // Messages waiting for a retry are not finished: they stay uncommitted and are delivered
  // again. Stop fetching everything.
  {
    std::vector<PartitionOffset> rows;
    for (auto& [key, partition] : table_.assigned()) {
      rows.push_back({partition->topic, partition->partition});
      partition->retry_entry = nullptr;
      partition->retry_message.reset();
      table_.drop_parked(*partition);
    }
    if (consumer_ && !rows.empty()) rd_kafka_pause_partitions(consumer_.get(), make_partition_list(rows).get());
  }
  // Calls running on workers return (within the deadline) and are concluded like any other.
  if (executor_) executor_->finish(*stop_deadline_, nullptr);
  // A call that has not returned cannot be stopped (C++ has no safe way to end a thread), and
  // close() waits for it: the shutdown watchdog ends the process at KERNEL_SHUTDOWN_TIMEOUT.
  const std::size_t hung_calls = executor_ ? executor_->running() : 0;
  const bool producer_failed = exit_code_ == exit_code::software;  // a fatal librdkafka error
  // After a fatal producer error nothing more can be delivered: do not wait for it.
  if (output_.producer() && !producer_failed) wait_for_outputs(*stop_deadline_);
  bool committed = !consumer_ || commit_answered(commits_->commit(true));
  for (int attempt = 1;
       !committed && !(commits_->exactly_once() && exit_code_ != exit_code::ok) && Clock::now() < *stop_deadline_;
       ++attempt) {
    // Refused (a rebalance in progress, the coordinator moving): serve the consumer, which
    // rejoins, then try again while the deadline allows.
    const auto pause = std::min(retries_.policy().delay(attempt),
                                std::chrono::duration_cast<milliseconds>(*stop_deadline_ - Clock::now()));
    const auto until = Clock::now() + std::max(pause, milliseconds(1));
    while (Clock::now() < until) {
      // Fetching is paused; anything left is dropped here and delivered again.
      MessagePtr ignored{rd_kafka_consumer_poll(consumer_.get(), 10)};
    }
    committed = commit_answered(commits_->commit(true));
  }
  const auto uncommitted = consumer_ ? commits_->uncommitted_summary() : std::string();
  std::size_t left = 0;
  for (auto& [key, partition] : table_.assigned()) left += partition->tracker.in_flight();
  if (consumer_) {
    // Leaves the group so the partitions move at once.
    rd_kafka_consumer_close(consumer_.get());
  }
  if (producer_failed) {
    log_->critical("stopped after a fatal librdkafka error ({}); {} left uncommitted, delivered again after a restart",
                   fatal_reason_, count_of(left, "message"));
  } else if (!committed) {
    log_->error(
        "stopped without committing {}: the broker refused the commit until the shutdown deadline; "
        "those messages will be delivered again",
        uncommitted);
    if (exit_code_ == exit_code::ok) exit_code_ = exit_code::failure;
  } else if (output_.pending() > 0) {
    log_->error("stopped with {} unacknowledged and {} uncommitted; they will be delivered again",
                count_of(output_.pending(), "output"), count_of(left, "message"));
    if (exit_code_ == exit_code::ok) exit_code_ = exit_code::failure;
  } else if (hung_calls == 0) {
    log_->info("stopped ({} left uncommitted)", count_of(left, "message"));
  }
  if (hung_calls > 0) {
    log_->error(
        "stopped with {} still running on workers past the shutdown deadline and {} uncommitted (delivered "
        "again); exiting with 1 once they return, at KERNEL_SHUTDOWN_TIMEOUT ({} ms) at the latest",
        count_of(hung_calls, "handler call"), count_of(left, "message"), settings().shutdown_timeout.count());
    if (exit_code_ == exit_code::ok) exit_code_ = exit_code::failure;
  }
  return exit_code_;
}

}  // namespace kernel::detail
