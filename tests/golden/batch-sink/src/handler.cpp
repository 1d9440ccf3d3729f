// The handler: it writes batches of JSON messages to a sink, one call per batch.
#include "handler.hpp"

#include <atomic>

#include <nlohmann/json.hpp>

namespace order_sink {

/// The fields a Row takes from a message's JSON. A message whose JSON lacks one is
/// dead-lettered as a validation_error; fields it does not name are ignored.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Row, id, account, amount)

namespace {

// Relaxed: a statistic, not a synchronisation point.
std::atomic<std::uint64_t> written{0};

}  // namespace

void LogSink::write(const std::vector<Row>& rows) {
  // Replace this with one call to your store: a multi-row INSERT or COPY, a bulk request.
  const auto total = written.fetch_add(rows.size(), std::memory_order_relaxed) + rows.size();
  log_.info("wrote {} rows, from {} to {} ({} in all)", rows.size(), rows.front().id, rows.back().id, total);
}

void write_batch(kernel::Batch& batch, kernel::Context& context, Sink& sink) {
  std::vector<Row> rows;
  rows.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    try {
      // Not JSON: deserialization_error. Missing fields: validation_error.
      rows.push_back(batch[i].as<Row>());
    } catch (const kernel::KernelError& error) {
      // This message alone is dead-lettered, with the error as its reason; the others go on.
      batch.fail(i, error);
    }
  }
  if (rows.empty()) return;

  // One write for the whole batch. When it throws, every message of the batch fails with it,
  // the ones failed above included: a kernel::TransientError retries the whole batch with
  // backoff (each retry decodes it again), then dead-letters each message (retries_exhausted).
  sink.write(rows);
  context.log().debug("{}[{}]: {} of {} messages written", batch.topic(), batch.partition(), rows.size(), batch.size());
}

void handle_batch(kernel::Batch& batch, kernel::Context& context) {
  LogSink sink(context.log());
  write_batch(batch, context, sink);
}

std::uint64_t rows_written() noexcept { return written.load(std::memory_order_relaxed); }

}  // namespace order_sink
