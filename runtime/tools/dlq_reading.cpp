#include "dlq_reading.hpp"

#include <algorithm>
#include <chrono>

#include "kernel/exit_codes.hpp"

namespace kernel::tools::dlq {

using namespace kernel::detail;

HandlePtr reader(Connection& connection, const std::string& group, const Overrides& overrides) {
  Overrides all = {{"enable.partition.eof", "true"},
                   {"enable.auto.commit", "false"},
                   {"enable.auto.offset.store", "false"},
                   {"auto.offset.reset", "earliest"}};
  all.insert(all.end(), overrides.begin(), overrides.end());
  return connection.consumer(group, all);
}

std::vector<PartitionRange> ranges(Connection& connection, rd_kafka_t* client, const std::string& topic) {
  const auto all = connection.topics(client);
  const auto found = all.find(topic);
  if (found == all.end() || found->second == 0) {
    throw Failure{exit_code::unavailable, "topic " + topic + " does not exist on " + connection.servers()};
  }
  std::vector<PartitionRange> out;
  for (std::int32_t partition = 0; partition < found->second; ++partition) {
    PartitionRange range{partition};
    if (auto err = rd_kafka_query_watermark_offsets(client, topic.c_str(), partition, &range.low, &range.end,
                                                    connection.timeout_ms())) {
      throw Failure{exit_code::unavailable, "cannot read the watermarks of " + topic + "[" + std::to_string(partition) +
                                                "]: " + rd_kafka_err2str(err)};
    }
    out.push_back(range);
  }
  return out;
}

Scan::Scan(Connection& connection, rd_kafka_t* reader, std::string topic, std::vector<PartitionRange> ranges)
    : connection_(connection), reader_(reader), topic_(std::move(topic)), ranges_(std::move(ranges)) {
  for (const auto& range : ranges_) done_[range.partition] = range.low >= range.end;
}

std::int64_t Scan::total() const noexcept {
  std::int64_t sum = 0;
  for (const auto& range : ranges_) sum += range.end - range.low;
  return sum;
}

bool Scan::finished(std::int32_t partition) const {
  const auto found = done_.find(partition);
  return found == done_.end() || found->second;
}

void Scan::assign_in_order() {
  in_order_ = true;
  assign_next();
}

void Scan::assign_next() {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  const auto next = std::find_if(ranges_.begin(), ranges_.end(), [&](const auto& r) { return !finished(r.partition); });
  if (next != ranges_.end()) {
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), next->partition)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  if (auto err = rd_kafka_assign(reader_, list.get())) {
    throw Failure{exit_code::unavailable, "cannot read " + topic_ + ": " + rd_kafka_err2str(err)};
  }
}

void Scan::finish(std::int32_t partition) {
  done_[partition] = true;
  if (in_order_) assign_next();
}

void Scan::run(const OnRecord& on_record, const std::function<bool()>& between) {
  const auto patience = std::chrono::milliseconds(connection_.timeout_ms());
  auto last_progress = std::chrono::steady_clock::now();
  auto all_done = [&] {
    return std::all_of(done_.begin(), done_.end(), [](const auto& entry) { return entry.second; });
  };
  while (!all_done()) {
    MessagePtr message(rd_kafka_consumer_poll(reader_, 100));
    connection_.check_refusal();
    if (between && !between()) return;
    if (!message) {
      if (std::chrono::steady_clock::now() - last_progress > patience) {
        std::string stuck;
        for (const auto& [partition, done] : done_) {
          if (!done) stuck += (stuck.empty() ? "" : ",") + std::to_string(partition);
        }
        throw Failure{exit_code::unavailable, "nothing read from " + topic_ + "[" + stuck + "] on " +
                                                  connection_.servers() + " within " +
                                                  std::to_string(patience.count()) + " ms"};
      }
      continue;
    }
    const bool ours = message->rkt && topic_ == rd_kafka_topic_name(message->rkt);
    if (!ours || finished(message->partition)) continue;
    const auto& range =
        *std::find_if(ranges_.begin(), ranges_.end(), [&](const auto& r) { return r.partition == message->partition; });
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      finish(message->partition);  // the end of the log, wherever the end taken at start was
      last_progress = std::chrono::steady_clock::now();
      continue;
    }
    if (message->err) {
      throw Failure{exit_code::unavailable, "cannot read " + topic_ + "[" + std::to_string(message->partition) +
                                                "]: " + rd_kafka_message_errstr(message.get())};
    }
    last_progress = std::chrono::steady_clock::now();
    if (message->offset >= range.end) {
      finish(message->partition);  // written after the command started
      continue;
    }
    ++read_;
    const auto record = jsonl::from_rdkafka(message.get());
    if (message->offset + 1 >= range.end) finish(message->partition);
    if (!on_record(record, *message)) return;
  }
}

}  // namespace kernel::tools::dlq
