// bench-raw-batch-loop: the baseline for bench/batch, a hand-written librdkafka loop doing what
// the batch-sink pattern does: it keeps each partition's messages until it holds 500 of them or
// the first is 100 ms old (KERNEL_BATCH_SIZE and KERNEL_BATCH_TIMEOUT's defaults), decodes them
// into rows and writes the rows to the in-memory sink in one call, and commits what was written
// every second. Client settings come from the same configuration code as the kernel's.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include <kernel/config.hpp>
#include <kernel/detail/rdkafka_handles.hpp>
#include <nlohmann/json.hpp>

#include "config/settings.hpp"

#include "batch_sink.hpp"

namespace {

volatile std::sig_atomic_t running = 1;
void on_signal(int) { running = 0; }

using Clock = std::chrono::steady_clock;
constexpr std::size_t batch_size = 500;
constexpr auto batch_timeout = std::chrono::milliseconds(100);

/// One partition's messages waiting for their batch.
struct Pending {
  std::vector<kernel::detail::MessagePtr> messages;
  Clock::time_point first_arrived{};
  long long next_commit = -1;  // the offset after the last message written
};

}  // namespace

int main() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const auto config = kernel::Config::load(kernel::KernelDefaults{"raw-batch-loop", {"batch.in"}, std::nullopt},
                                           kernel::process_environment());
  const auto& topic = config.settings().input_topics.front();
  kernel::detail::ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& p : config.consumer_properties()) {
    if (rd_kafka_conf_set(conf.get(), p.name.c_str(), p.value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "raw-batch-loop: %s\n", error);
      return 78;
    }
  }
  kernel::detail::HandlePtr consumer(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error, sizeof error));
  if (!consumer) {
    std::fprintf(stderr, "raw-batch-loop: %s\n", error);
    return 70;
  }
  conf.release();  // owned by the handle now
  rd_kafka_poll_set_consumer(consumer.get());
  kernel::detail::PartitionListPtr topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(consumer.get(), topics.get());

  bench::MemorySink sink;
  bench::BatchStats stats;
  std::map<int, Pending> pending;  // by partition
  auto write = [&](Pending& batch) {
    const auto started = Clock::now();
    std::vector<bench::Row> rows;
    rows.reserve(batch.messages.size());
    for (const auto& message : batch.messages) {
      const auto* bytes = static_cast<const char*>(message->payload);
      auto document = nlohmann::json::parse(bytes, bytes + message->len, nullptr, false);
      if (document.is_discarded() || !document.is_object()) continue;  // a dead letter, in a real sink
      try {
        rows.push_back(document.get<bench::Row>());
      } catch (const nlohmann::json::exception&) {
        continue;
      }
    }
    if (!rows.empty()) sink.write(rows);
    batch.next_commit = batch.messages.back()->offset + 1;
    batch.messages.clear();
    stats.record(started, rows.size());
  };
  auto next_commit = Clock::now() + std::chrono::seconds(1);
  while (running) {
    kernel::detail::MessagePtr message(rd_kafka_consumer_poll(consumer.get(), 10));
    const auto now = Clock::now();
    if (message && !message->err) {
      auto& batch = pending[message->partition];
      if (batch.messages.empty()) batch.first_arrived = now;
      batch.messages.push_back(std::move(message));
      if (batch.messages.size() >= batch_size) write(batch);
    }
    for (auto& [partition, batch] : pending) {
      if (!batch.messages.empty() && now - batch.first_arrived >= batch_timeout) write(batch);
    }
    if (now >= next_commit) {
      kernel::detail::PartitionListPtr offsets(rd_kafka_topic_partition_list_new(static_cast<int>(pending.size())));
      for (const auto& [partition, batch] : pending) {
        if (batch.next_commit >= 0)
          rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), partition)->offset = batch.next_commit;
      }
      if (offsets->cnt > 0) rd_kafka_commit(consumer.get(), offsets.get(), 1);
      next_commit = now + std::chrono::seconds(1);
    }
  }
  rd_kafka_consumer_close(consumer.get());
  return 0;
}
