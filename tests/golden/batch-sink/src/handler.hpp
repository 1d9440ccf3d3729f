#pragma once
// order-sink's business logic: one call per batch of consumed messages.
//
// This file and handler.cpp are yours: new-kernel writes them once and never touches them
// again. The runtime calls handle_batch() with up to KERNEL_BATCH_SIZE messages of one
// partition, in offset order, one batch at a time on its loop thread (a batch kernel keeps
// KERNEL_CONCURRENCY at 1; the runtime refuses more at start).
#include <cstdint>
#include <string>
#include <vector>

#include <kernel/kernel.hpp>

namespace order_sink {

/// What one message becomes in the sink (its format: docs/message-spec.md).
struct Row {
  std::string id;
  std::string account;
  double amount = 0.0;

  bool operator==(const Row&) const = default;
};

/// Where the rows go: a table, a search index, a file in an object store. Replace
/// LogSink (handler.cpp) with a client of your store; write_batch() stays as it is.
class Sink {
 public:
  virtual ~Sink() = default;
  /// Writes every row in one call (one INSERT, one bulk request), or throws:
  /// kernel::TransientError when the store is down or times out (the whole batch is retried
  /// with backoff, then dead-lettered), kernel::FatalError when the kernel cannot go on.
  /// Rows can come again after a retry or a restart: make the write idempotent (by `id`).
  virtual void write(const std::vector<Row>& rows) = 0;
};

/// The stand-in sink handle_batch() uses: it logs and counts the rows it is given.
class LogSink : public Sink {
 public:
  explicit LogSink(spdlog::logger& log) : log_(log) {}
  void write(const std::vector<Row>& rows) override;

 private:
  spdlog::logger& log_;
};

/// Decodes one batch into rows and writes them to `sink` in one call (tests pass a sink of
/// their own).
///
/// A message that does not decode into a Row is failed alone with batch.fail(i, ...): it is
/// dead-lettered with the reason, the others go on. An exception thrown out of here fails
/// the whole batch, classified as a single-message handler's would be:
///  - kernel::TransientError  (the sink is down): the batch is retried with backoff, then
///    each message is dead-lettered (retries_exhausted);
///  - kernel::PermanentError  every message of the batch is dead-lettered at once;
///  - kernel::FatalError      the kernel stops and exits 1; nothing of the batch is committed.
/// Returning normally completes every message not failed: offsets are committed.
void write_batch(kernel::Batch& batch, kernel::Context& context, Sink& sink);

/// The batch handler kernel_spec() sets: write_batch() to a LogSink.
void handle_batch(kernel::Batch& batch, kernel::Context& context);

/// How many rows LogSink has written since the process started.
std::uint64_t rows_written() noexcept;

}  // namespace order_sink
