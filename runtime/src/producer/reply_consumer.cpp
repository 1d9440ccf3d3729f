#include "producer/reply_consumer.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "config/settings.hpp"
#include "kernel/detail/rdkafka_client.hpp"
#include "log/logging.hpp"

namespace kernel::detail {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t max_topic_length = 249;

bool topic_character(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

std::string host_name() {
  if (const char* from_environment = std::getenv("HOSTNAME"); from_environment && *from_environment) {
    return from_environment;
  }
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) == 0 && name[0] != '\0') return name.data();
  return "local";
}

milliseconds left_until(Clock::time_point deadline) {
  return std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

/// The topic's partition count, once the brokers know the topic (0 until then).
int partition_count(rd_kafka_t* consumer, const std::string& topic, milliseconds timeout) {
  TopicPtr handle(rd_kafka_topic_new(consumer, topic.c_str(), nullptr));
  const rd_kafka_metadata_t* raw = nullptr;
  // By name: a broker that auto-creates topics creates it (allow.auto.create.topics below).
  if (rd_kafka_metadata(consumer, 0, handle.get(), &raw,
                        static_cast<int>(std::min<long long>(timeout.count(), 1000))) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return 0;
  }
  MetadataPtr metadata(raw);
  if (metadata->topic_cnt != 1 || metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
  return metadata->topics[0].partition_cnt;
}

}  // namespace

std::string reply_topic_name(const Settings& settings, const std::string& name, const std::string& given,
                             const std::string& instance) {
  std::string topic = settings.topic_prefix;
  if (!given.empty()) {
    topic += given;  // judged like any topic a producer names: an invalid one fails at start
    return topic;
  }
  topic += name + ".replies." + (instance.empty() ? host_name() : instance);
  std::replace_if(
      topic.begin() + static_cast<std::ptrdiff_t>(settings.topic_prefix.size()), topic.end(),
      [](char c) { return !topic_character(c); }, '-');
  if (topic.size() > max_topic_length) topic.resize(max_topic_length);
  return topic;
}

HandlePtr open_reply_consumer(const Config& config, const std::string& topic, milliseconds timeout,
                              const std::shared_ptr<spdlog::logger>& log) {
  if (auto problem = topic_name_problem(topic); !problem.empty()) {
    throw std::runtime_error("reply topic " + topic + " " + problem);
  }
  ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  auto set = [&](const std::string& name, const std::string& value, const std::string& variable) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error.data(), error.size()) != RD_KAFKA_CONF_OK) {
      throw ConfigError({"config error: " + (variable.empty() ? name : variable) + ": " + error.data()});
    }
  };
  for (const auto& property : config.consumer_properties()) set(property.name, property.value, property.variable);
  // Never joined (assign() only) nor committed to: the group id is required by the consumer API
  // alone, and names the requester's topic so that it never collides with a kernel's group.
  set("group.id", topic, "");
  set("enable.auto.commit", "false", "");
  set("enable.auto.offset.store", "false", "");
  set("allow.auto.create.topics", "true", "");
  set("auto.offset.reset", "latest", "");
  // A reply produced in a transaction that then aborted was never given: never read, whatever
  // KAFKA_ISOLATION_LEVEL (or a consumer property) says for the kernel's own input.
  set("isolation.level", "read_committed", "");
  route_rdkafka_logs(conf.get(), log);
  auto client = create_client(ClientType::consumer, conf);
  if (!client) throw ConfigError({"config error: " + client.message});
  auto consumer = std::move(client.handle);

  const auto deadline = Clock::now() + timeout;
  int partitions = 0;
  while ((partitions = partition_count(consumer.get(), topic, left_until(deadline))) == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));  // a topic being created: ask again shortly
  }
  if (partitions == 0) {
    throw std::runtime_error("reply topic " + topic + " not found within " + std::to_string(timeout.count()) +
                             " ms: create it (one partition is enough) or let the brokers create topics");
  }
  // Explicit offsets, not OFFSET_END: the end is fixed now, before any request, so a reply that
  // comes before the consumer's first fetch is read all the same.
  PartitionListPtr assignment(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), p, &low, &high,
                                                   static_cast<int>(left_until(deadline).count()))) !=
               RD_KAFKA_RESP_ERR_NO_ERROR &&
           Clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(100));  // a leader being elected
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("reply topic " + topic + ": the end of partition " + std::to_string(p) +
                               " could not be read within " + std::to_string(timeout.count()) +
                               " ms: " + rd_kafka_err2str(err));
    }
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = high;
  }
  if (const auto err = rd_kafka_assign(consumer.get(), assignment.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("reply topic " + topic + ": cannot assign its partitions: " + rd_kafka_err2str(err));
  }
  log->debug("reading replies from {} ({} partitions) from their ends", topic, partitions);
  return consumer;
}

}  // namespace kernel::detail
