#include "broker/record_io.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "kernel/detail/rdkafka_client.hpp"

namespace kernel::detail {

HandlePtr make_plain_client(rd_kafka_type_t type, const std::string& servers,
                            const std::vector<std::pair<std::string, std::string>>& properties) {
  ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  auto set = [&](const std::string& name, const std::string& value) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error.data(), error.size()) != RD_KAFKA_CONF_OK) {
      throw std::runtime_error(name + ": " + error.data());
    }
  };
  set("bootstrap.servers", servers);
  set("log_level", "3");
  for (const auto& [name, value] : properties) set(name, value);
  auto client = create_client(type == RD_KAFKA_CONSUMER ? ClientType::consumer : ClientType::producer, conf);
  if (!client) throw std::runtime_error(client.message);
  return std::move(client.handle);
}

namespace {
struct DeliveryState {
  std::map<std::int32_t, std::int64_t> ends;
  std::vector<RecordPosition>* positions = nullptr;
  std::string error;
};
/// Each message's opaque: its state and its index in the records.
struct DeliverySlot {
  DeliveryState* state;
  std::size_t index;
};
void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  const auto* slot = static_cast<const DeliverySlot*>(message->_private);
  auto* state = slot->state;
  if (message->err) {
    state->error = rd_kafka_err2str(message->err);
    return;
  }
  auto& end = state->ends[message->partition];
  end = std::max(end, message->offset + 1);
  if (state->positions) (*state->positions)[slot->index] = {message->partition, message->offset};
}
}  // namespace

std::map<std::int32_t, std::int64_t> produce_records(const std::string& servers, const std::string& topic,
                                                     const std::vector<jsonl::Record>& records,
                                                     std::chrono::milliseconds timeout,
                                                     std::vector<RecordPosition>* positions) {
  ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  rd_kafka_conf_set(conf.get(), "bootstrap.servers", servers.c_str(), error.data(), error.size());
  rd_kafka_conf_set(conf.get(), "linger.ms", "5", error.data(), error.size());
  rd_kafka_conf_set(conf.get(), "log_level", "3", error.data(), error.size());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  auto client = create_client(ClientType::producer, conf);
  if (!client) throw std::runtime_error(client.message);
  HandlePtr producer = std::move(client.handle);

  DeliveryState state;
  if (positions) positions->assign(records.size(), RecordPosition{});
  state.positions = positions;
  std::vector<DeliverySlot> slots;
  slots.reserve(records.size());  // never reallocated: messages point into it
  for (const auto& record : records) {
    slots.push_back({&state, slots.size()});
    HeadersPtr headers(rd_kafka_headers_new(record.headers.size()));
    for (std::size_t i = 0; i < record.headers.size(); ++i) {
      const auto& [name, value] = record.headers[i];
      const bool null = record.headers.is_null(i);
      rd_kafka_header_add(headers.get(), name.c_str(), -1, null ? nullptr : value.data(),
                          static_cast<ssize_t>(value.size()));
    }
    const void* key = record.key ? record.key->data() : nullptr;
    const std::size_t key_len = record.key ? record.key->size() : 0;
    rd_kafka_resp_err_t err;
    while (true) {
      err = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                              RD_KAFKA_V_PARTITION(record.partition.value_or(RD_KAFKA_PARTITION_UA)),
                              RD_KAFKA_V_KEY(key, key_len),
                              RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers.get()),
                              RD_KAFKA_V_OPAQUE(&slots.back()), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) (void)headers.release();  // the message owns them now
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
      rd_kafka_poll(producer.get(), 50);
    }
    if (err) {
      throw std::runtime_error("producing to " + topic + ": " + rd_kafka_err2str(err));
    }
  }
  if (rd_kafka_flush(producer.get(), static_cast<int>(timeout.count())) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("producing to " + topic + ": not acknowledged within " + std::to_string(timeout.count()) +
                             " ms");
  }
  if (!state.error.empty()) throw std::runtime_error("producing to " + topic + ": " + state.error);
  return state.ends;
}

std::vector<jsonl::Record> read_topic(const std::string& servers, const std::string& topic, std::size_t at_least,
                                      std::chrono::milliseconds timeout, const std::function<bool()>& give_up) {
  auto consumer = make_plain_client(
      RD_KAFKA_CONSUMER, servers,
      {{"group.id", "kernel-read-topic"}, {"enable.auto.commit", "false"}, {"enable.partition.eof", "true"}});
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Partition count from metadata.
  int partitions = 0;
  while (partitions == 0 && std::chrono::steady_clock::now() < deadline) {
    TopicPtr handle(rd_kafka_topic_new(consumer.get(), topic.c_str(), nullptr));
    const rd_kafka_metadata_t* raw = nullptr;
    if (rd_kafka_metadata(consumer.get(), 0, handle.get(), &raw, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      MetadataPtr metadata(raw);
      if (metadata->topic_cnt == 1 && !metadata->topics[0].err) partitions = metadata->topics[0].partition_cnt;
    }
  }
  std::vector<jsonl::Record> records;
  if (partitions == 0) return records;
  PartitionListPtr assignment(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer.get(), assignment.get());
  std::map<std::int32_t, bool> at_end;
  std::map<std::int32_t, std::int64_t> next_offset;
  const auto read_all = [&] { return static_cast<int>(at_end.size()) == partitions; };
  // End-of-partition events may predate the last writes: once give_up() holds, the high
  // watermarks say whether everything written has been read.
  const auto giving_up = [&] {
    if (!give_up || !read_all() || !give_up()) return false;
    for (int p = 0; p < partitions; ++p) {
      std::int64_t low = 0, high = 0;
      if (rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), p, &low, &high, 1000) !=
              RD_KAFKA_RESP_ERR_NO_ERROR ||
          high > std::max(low, next_offset[p])) {
        return false;
      }
    }
    return true;
  };
  while (std::chrono::steady_clock::now() < deadline) {
    MessagePtr message(rd_kafka_consumer_poll(consumer.get(), 100));
    if (!message) {
      if (giving_up()) break;
      continue;
    }
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end[message->partition] = true;
      if ((read_all() && records.size() >= at_least) || giving_up()) break;
      continue;
    }
    if (message->err) continue;
    at_end.erase(message->partition);
    next_offset[message->partition] = message->offset + 1;
    records.push_back(jsonl::from_rdkafka(message.get()));
  }
  rd_kafka_consumer_close(consumer.get());
  return records;
}

}  // namespace kernel::detail
