// bench-batch-kernel: the batch-sink pattern (new-kernel --pattern batch-sink) writing to an
// in-memory sink: up to KERNEL_BATCH_SIZE messages of a partition decoded into rows (a message
// that does not decode is failed alone), then one write for the batch. Used by bench/batch.
#include <chrono>

#include <kernel/kernel.hpp>

#include "batch_sink.hpp"

int main(int argc, char** argv) {
  bench::MemorySink sink;
  bench::BatchStats stats;
  kernel::KernelSpec spec;
  spec.name = "bench-batch-kernel";
  spec.input_topics = {"batch.in"};
  // One batch at a time on the loop thread (a batch kernel's KERNEL_CONCURRENCY is 1): the sink
  // and the figures need no lock.
  spec.batch_handler = [&](kernel::Batch& batch, kernel::Context&) {
    const auto started = std::chrono::steady_clock::now();
    std::vector<bench::Row> rows;
    rows.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      try {
        rows.push_back(batch[i].as<bench::Row>());
      } catch (const kernel::KernelError& error) {
        batch.fail(i, error);
      }
    }
    if (rows.empty()) return;
    sink.write(rows);
    stats.record(started, rows.size());
  };
  return kernel::run(spec, argc, argv);
}
