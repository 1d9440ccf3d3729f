// The handler inside the real consumer loop, on the embedded broker (no Kafka to install):
// messages go through Kafka, outputs and dead letters are read back from their topics.
// Takes a few seconds: joining a consumer group does.
#include <doctest/doctest.h>  // its main() comes compiled: kernel::doctest_main

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <kernel/testing.hpp>
#include <nlohmann/json.hpp>

#include "handler.hpp"
#include "kernel_spec.hpp"
#include "test_settings.hpp"

namespace {

/// The kernel as main() runs it (kernel_spec(): its settings, named outputs and handler), on
/// topics of its own.
kernel::KernelSpec test_kernel() {
  auto spec = order_sink::kernel_spec();
  spec.name = "order-sink-test";
  spec.input_topics = {"order-sink-test.input"};
  return spec;
}

/// The fixture's environment: `values`, and test_settings() for the settings the kernel requires.
kernel::Environment environment(kernel::Environment values = {}) {
  values.merge(order_sink::test_settings("order-sink-test"));
  return values;
}

std::optional<std::string> header(const kernel::jsonl::Record& record, std::string_view name) {
  const auto found = std::find_if(record.headers.begin(), record.headers.end(),
                                  [name](const auto& entry) { return entry.first == name; });
  if (found == record.headers.end()) return std::nullopt;
  return found->second;
}

}  // namespace

TEST_CASE("a batch is written in one call and its malformed messages are dead-lettered") {
  // Four messages make a full batch: handed over together, whatever the timing.
  kernel::testing::KernelFixture kernel(test_kernel(),
                                        environment({{"KERNEL_BATCH_SIZE", "4"}, {"KERNEL_BATCH_TIMEOUT", "10s"}}));
  const auto before = order_sink::rows_written();

  // One key, so one partition: one batch.
  kernel.send({{"id", "evt-1"}, {"account", "acme"}, {"amount", 42.5}}, "account-acme");
  kernel.send_raw("not json", "account-acme");
  kernel.send({{"id", "evt-2"}, {"amount", 1}}, "account-acme");
  kernel.send({{"id", "evt-3"}, {"account", "acme"}, {"amount", 7}}, "account-acme");

  const auto dead_letters = kernel.dead_letters(2);
  REQUIRE(dead_letters.size() == 2);
  CHECK(dead_letters[0].value == "not json");
  CHECK(header(dead_letters[0], "dlq-failure-reason") == "deserialization_error");
  CHECK(header(dead_letters[1], "dlq-failure-reason") == "validation_error");
  CHECK(header(dead_letters[1], "dlq-original-topic") == "order-sink-test.input");
  // Written before the batch's dead letters were sent.
  CHECK(order_sink::rows_written() == before + 2);
}

TEST_CASE("a batch whose write fails transiently is retried as a batch, then written") {
  /// Down for its first write, as a store that restarts; the test waits on what it wrote.
  class FlakySink : public order_sink::Sink {
   public:
    void write(const std::vector<order_sink::Row>& rows) override {
      const std::lock_guard lock(mutex_);
      if (++calls_ == 1) throw kernel::TransientError("connection refused by the store");
      written_ += rows.size();
      changed_.notify_all();
    }
    /// The calls made once `rows` rows are written, or nullopt after `timeout`.
    std::optional<int> calls_when_written(std::size_t rows, std::chrono::seconds timeout) {
      std::unique_lock lock(mutex_);
      if (!changed_.wait_for(lock, timeout, [&] { return written_ >= rows; })) return std::nullopt;
      return calls_;
    }

   private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int calls_ = 0;
    std::size_t written_ = 0;
  };
  FlakySink sink;
  auto spec = test_kernel();
  spec.batch_handler = [&sink](kernel::Batch& batch, kernel::Context& context) {
    order_sink::write_batch(batch, context, sink);
  };
  // Two messages make a full batch; the retry comes 50 ms after the failure.
  kernel::testing::KernelFixture kernel(
      std::move(spec),
      environment({{"KERNEL_BATCH_SIZE", "2"}, {"KERNEL_BATCH_TIMEOUT", "10s"}, {"KERNEL_RETRY_BACKOFF", "50ms"}}));

  kernel.send({{"id", "evt-1"}, {"account", "acme"}, {"amount", 42.5}}, "account-acme");
  kernel.send({{"id", "evt-2"}, {"account", "acme"}, {"amount", 7}}, "account-acme");

  // Both rows in the second call: the whole batch was retried, nothing was dead-lettered.
  CHECK(sink.calls_when_written(2, std::chrono::seconds(30)) == 2);
}
