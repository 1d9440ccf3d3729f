// The control topic's reader: its own handle and thread, never the loop's (fleet_commands.hpp).
#include "loop/fleet_commands.hpp"

#include <array>

#include <librdkafka/rdkafka.h>

#include "core/printable_text.hpp"
#include "kernel/detail/rdkafka_client.hpp"
#include "log/logging.hpp"
#include "ops/kernel_metrics.hpp"

namespace kernel::detail {

namespace {

using Clock = std::chrono::steady_clock;

/// How often a missing control topic is looked for again.
constexpr auto lookup_interval = std::chrono::seconds(10);
/// How soon after a lookup the brokers did not answer: a pause may be in force, and the
/// instance must not start handling before it has read it.
constexpr auto retry_interval = std::chrono::seconds(1);

/// The kernel consumer's properties but its group's: this handle is in no group.
bool belongs_to_group(const std::string& name) {
  return name == "group.id" || name == "group.instance.id" || name == "partition.assignment.strategy" ||
         name == "session.timeout.ms" || name == "heartbeat.interval.ms" || name == "max.poll.interval.ms" ||
         name == "enable.auto.commit" || name == "auto.commit.interval.ms" || name == "enable.auto.offset.store" ||
         name == "isolation.level" || name == "statistics.interval.ms";
}

}  // namespace

FleetCommands::FleetCommands(std::string topic, const std::vector<Property>& properties,
                             std::shared_ptr<spdlog::logger> log, KernelMetrics* metrics)
    : topic_(std::move(topic)), log_(std::move(log)), metrics_(metrics) {
  ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  for (const auto& property : properties) {
    if (belongs_to_group(property.name)) continue;
    // Checked when the configuration was loaded.
    rd_kafka_conf_set(conf.get(), property.name.c_str(), property.value.c_str(), error.data(), error.size());
  }
  // An end-of-partition event tells when the history is read; short fetch waits keep a new
  // command's way in well under a second. Topics are looked up in the full list (open()), so
  // nothing here names a topic that does not exist.
  // From the earliest offset whatever KAFKA_CONSUMER_START_OFFSET says: an offset out of range
  // (the topic recreated) must not skip the commands in it.
  for (const auto& [name, value] : {std::pair{"enable.partition.eof", "true"}, std::pair{"fetch.wait.max.ms", "100"},
                                    std::pair{"auto.offset.reset", "earliest"}}) {
    rd_kafka_conf_set(conf.get(), name, value, error.data(), error.size());
  }
  route_rdkafka_logs(conf.get(), log_);
  auto client = create_client(ClientType::consumer, conf);
  if (!client) throw std::runtime_error("cannot create the control topic's reader: " + client.message);
  consumer_ = std::move(client.handle);
  queue_.reset(rd_kafka_queue_new(consumer_.get()));
}

FleetCommands::~FleetCommands() {
  stop_.store(true);
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (int partition = 0; partition < partitions_; ++partition) rd_kafka_consume_stop(topic_handle_.get(), partition);
}

void FleetCommands::start(std::chrono::milliseconds within) {
  thread_ = std::thread([this] { run(); });
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, within, [&] { return caught_up_; })) {
    log_->warn("control topic {} not read to its end within {} ms: fleet-wide pauses apply as they are read", topic_,
               within.count());
  }
}

FleetPauses FleetCommands::pauses(std::uint64_t& generation) const {
  std::lock_guard lock(mutex_);
  generation = generation_.load(std::memory_order_relaxed);
  return pauses_;
}

void FleetCommands::caught_up() {
  {
    std::lock_guard lock(mutex_);
    caught_up_ = true;
  }
  changed_.notify_all();
}

FleetCommands::Lookup FleetCommands::open() {
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(consumer_.get(), 1, nullptr, &raw, 5000);
  MetadataPtr metadata(raw);
  if (err) {
    log_->warn("control topic {}: the brokers did not answer ({}); looking again in {} s", topic_,
               rd_kafka_err2str(err), retry_interval.count());
    return Lookup::unknown;
  }
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& topic = metadata->topics[i];
    if (topic_ != topic.topic) continue;
    if (topic.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) break;
    if (topic.err || topic.partition_cnt <= 0) {
      log_->warn("control topic {}: {}; looking again in {} s", topic_,
                 topic.err ? rd_kafka_err2str(topic.err) : "no partitions", retry_interval.count());
      return Lookup::unknown;
    }
    topic_handle_.reset(rd_kafka_topic_new(consumer_.get(), topic_.c_str(), nullptr));
    if (!topic_handle_) {
      log_->warn("control topic {}: {}; looking again in {} s", topic_, rd_kafka_err2str(rd_kafka_last_error()),
                 retry_interval.count());
      return Lookup::unknown;
    }
    partitions_ = topic.partition_cnt;
    at_end_.assign(static_cast<std::size_t>(partitions_), false);
    for (int partition = 0; partition < partitions_; ++partition) {
      // From the beginning: the compacted topic holds the last command of every scope.
      rd_kafka_consume_start_queue(topic_handle_.get(), partition, RD_KAFKA_OFFSET_BEGINNING, queue_.get());
    }
    log_->info("reading fleet-wide commands from {} ({})", topic_,
               count_of(static_cast<std::size_t>(partitions_), "partition"));
    return Lookup::reading;
  }
  if (!missing_reported_) {
    missing_reported_ = true;
    log_->warn(
        "control topic {} does not exist: fleet-wide pauses (kernel-admin pause) cannot reach this instance; "
        "create it (--create-topics), looking again every {} s",
        topic_, lookup_interval.count());
  }
  return Lookup::missing;
}

void FleetCommands::run() {
  try {
    read_until_stopped();
  } catch (const std::exception& error) {
    // A thread of its own: an exception here would end the process. The pauses read so far stay.
    log_->error("control topic {}: the reader stopped: {}; fleet-wide commands no longer reach this instance", topic_,
                error.what());
    caught_up();
  }
}

void FleetCommands::read_until_stopped() {
  auto next_lookup = Clock::now();
  bool reading = false;
  while (!stop_.load()) {
    if (!reading) {
      if (Clock::now() >= next_lookup) {
        const auto found = open();
        reading = found == Lookup::reading;
        next_lookup = Clock::now() + (found == Lookup::unknown ? retry_interval : lookup_interval);
        // Nothing to wait for at start only when the brokers said the topic does not exist: when
        // they did not answer, start() keeps waiting (up to its bound) for a pause in force.
        if (found == Lookup::missing) caught_up();
        continue;
      }
      rd_kafka_poll(consumer_.get(), 0);
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop_.load(); });
      continue;
    }
    rd_kafka_poll(consumer_.get(), 0);  // its error events, which would otherwise pile up
    // Bounded wait: the stop flag is checked at least every 100 ms.
    MessagePtr record(rd_kafka_consume_queue(queue_.get(), 100));
    if (!record) continue;
    if (record->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      const auto partition = static_cast<std::size_t>(record->partition);
      if (partition < at_end_.size() && !at_end_[partition]) {
        at_end_[partition] = true;
        if (++at_end_count_ == partitions_) caught_up();
      }
      continue;
    }
    if (record->err) {
      log_->warn("control topic {}: {}", topic_, rd_kafka_message_errstr(record.get()));
      continue;
    }
    read(*record);
  }
}

void FleetCommands::read(const rd_kafka_message_t& record) {
  std::optional<std::string_view> key, value;
  if (record.key) key = std::string_view(static_cast<const char*>(record.key), record.key_len);
  if (record.payload) value = std::string_view(static_cast<const char*>(record.payload), record.len);
  auto parsed = parse_fleet_record(key, value);
  if (parsed.command) {
    std::lock_guard lock(mutex_);
    if (!pauses_.admits(*parsed.command, max_pauses)) {
      parsed = {std::nullopt, "more than " + std::to_string(max_pauses) + " pauses would be in force"};
    }
  }
  if (!parsed.command) {
    // Never stops the kernel: written by anyone with write access to the topic.
    log_->warn("control topic {}[{}]@{}: command ignored: {}", topic_, record.partition, record.offset,
               printable_text(parsed.error, Quotes::kept, 300));
    if (metrics_) metrics_->fleet_commands(false).Increment();
    return;
  }
  const auto& command = *parsed.command;
  log_->warn("fleet-wide {} of {} by {} at {}{}{}",
             command.tombstone ? "resume (tombstone)"
             : command.pause   ? "pause"
                               : "resume",
             command.scope.describe(), command.by.empty() ? "someone" : printable_text(command.by),
             command.at.empty() ? "?" : command.at, command.reason.empty() ? "" : ": ", printable_text(command.reason));
  {
    std::lock_guard lock(mutex_);
    pauses_.apply(command);
    generation_.fetch_add(1, std::memory_order_release);
  }
  if (metrics_) metrics_->fleet_commands(true).Increment();
}

}  // namespace kernel::detail
