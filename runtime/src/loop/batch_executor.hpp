#pragma once
// KernelSpec::batch_handler's call executor (batch_executor.cpp, docs/batches.md): messages
// are collected per partition (batch_collector.hpp) and handed to the handler as a batch when
// KERNEL_BATCH_SIZE are there or KERNEL_BATCH_TIMEOUT after the first arrived.
#include <cstddef>
#include <memory>

#include <spdlog/logger.h>

#include "config/settings.hpp"
#include "kernel/batch.hpp"
#include "kernel/context.hpp"
#include "kernel/handler.hpp"
#include "kernel/spec.hpp"
#include "loop/batch_collector.hpp"
#include "loop/call_executor.hpp"
#include "loop/executor_host.hpp"

namespace prometheus {
class Histogram;
}

namespace kernel::detail {

class KernelMetrics;
class OpsState;

/// The batch handler as a single-message handler (a batch of one), for the paths that run one
/// message: a retry topic's head that was not due, a breaker probe.
Handler one_message_batch(BatchHandler handler, TransientTypes transient);

class BatchExecutor final : public CallExecutor {
 public:
  /// Calls run on the loop thread in `context` (the loop's); `ops` and `metrics` are null when
  /// KERNEL_HTTP_PORT is off.
  BatchExecutor(ExecutorHost host, const KernelSpec& spec, const Settings& settings, Context& context,
                std::shared_ptr<spdlog::logger> log, OpsState* ops, KernelMetrics* metrics);

  /// Adds a message to its partition's next batch; hands the batch over when it is full.
  bool collect(PartitionState& partition, InFlight& entry, Message& message) override;
  bool busy() const noexcept override { return collected_messages_ > 0; }
  /// Hands over batches past KERNEL_BATCH_TIMEOUT and runs due batch retries.
  Clock::time_point tick(Clock::time_point now) override;
  /// A revoked partition's collected and retrying messages are dropped unhandled.
  void drop(PartitionState& partition) noexcept override;
  /// Hands over what was collected (unless a retry or a hold comes first), then drops what
  /// waits for a retry (delivered again).
  void hand_over_collected() override;

 private:
  /// Nothing earlier of the partition waits (a retry) and nothing holds it (operator, breaker).
  bool may_hand_over(const PartitionState& partition) const noexcept;
  /// One call of the batch handler with `batch` as attempt `attempt`, concluded per message.
  void run_batch(PartitionState& partition, BatchMessages batch, int attempt);
  /// The call itself, exceptions turned into the whole batch's Outcome, timed against
  /// KERNEL_HANDLER_TIMEOUT. The one place a batch handler runs.
  Outcome call_batch_handler(const PartitionState& partition, Batch& batch);
  /// A whole batch failed transiently: waits (partition paused) to run again as `attempt`.
  void retry_batch_later(PartitionState& partition, BatchMessages batch, int attempt, std::chrono::milliseconds delay);

  ExecutorHost host_;
  const Settings& settings_;
  Context& context_;
  std::shared_ptr<spdlog::logger> log_;
  OpsState* ops_;
  BatchHandler batch_handler_;
  TransientTypes transient_errors_;
  std::size_t collected_messages_ = 0;                  // in every partition's batches, collected or retrying
  prometheus::Histogram* batch_size_metric_ = nullptr;  // kernel_batch_size (metrics on)
};

}  // namespace kernel::detail
