#include "dlq_reading.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include "dlq_filter.hpp"
#include "kernel/run.hpp"
#include "log/logging.hpp"

namespace kernel::tools::dlq {

using namespace kernel::detail;

/// What the clients report through their opaque: the first refusal, and rebalances.
struct Connection::Events {
  std::string refusal;
  RebalanceHandler rebalance;
};

namespace {

void remember_refusal(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto& refusal = *static_cast<std::string*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  const bool handshake = code == RD_KAFKA_RESP_ERR__TRANSPORT &&
                         std::string_view(reason).find("SSL handshake failed") != std::string_view::npos;
  if (refusal.empty() && (handshake || code == RD_KAFKA_RESP_ERR__AUTHENTICATION || code == RD_KAFKA_RESP_ERR__SSL ||
                          code == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED)) {
    refusal = std::string(handshake ? "TLS handshake failed: " : "authentication or TLS refused: ") +
              kernel::mask_secrets(reason);
  }
}

}  // namespace

Connection::Connection(const Config& config, int timeout_ms)
    : config_(config), timeout_ms_(timeout_ms), events_(std::make_unique<Events>()) {
  const auto& s = config.settings();
  // librdkafka's own lines only from errors up, unless asked: the tool's output is its report.
  log_ =
      make_logger("kernel-admin", std::string(s.log_level == kernel::LogLevel::info ? "error" : to_string(s.log_level)),
                  std::string(to_string(s.log_format)));
}

Connection::~Connection() = default;

void Connection::configure(rd_kafka_conf_t* conf, const std::vector<Property>& properties, const Overrides& overrides) {
  std::array<char, 512> error{};
  auto set = [&](const std::string& name, const std::string& value, const std::string& variable) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error.data(), error.size()) != RD_KAFKA_CONF_OK) {
      throw Failure{exit_code::config, "config error: " + (variable.empty() ? name : variable) + ": " + error.data()};
    }
  };
  for (const auto& property : properties) {
    const bool overridden =
        std::any_of(overrides.begin(), overrides.end(), [&](const auto& o) { return o.first == property.name; });
    if (!overridden) set(property.name, property.value, property.variable);
  }
  for (const auto& [name, value] : overrides) set(name, value, "");
  rd_kafka_conf_set_opaque(conf, events_.get());
  rd_kafka_conf_set_error_cb(conf, [](rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    remember_refusal(rk, err, reason, &static_cast<Events*>(opaque)->refusal);
  });
  route_rdkafka_logs(conf, log_);
}

HandlePtr Connection::consumer(const std::string& group, const Overrides& overrides) {
  ConfPtr conf(rd_kafka_conf_new());
  Overrides all = {{"group.id", group},
                   // Looking at a topic must never create it, whatever KAFKA_PROPERTY_* says.
                   {"allow.auto.create.topics", "false"},
                   {"enable.partition.eof", "true"},
                   {"enable.auto.commit", "false"},
                   {"enable.auto.offset.store", "false"},
                   {"auto.offset.reset", "earliest"}};
  all.insert(all.end(), overrides.begin(), overrides.end());
  configure(conf.get(), config_.consumer_properties(), all);
  rd_kafka_conf_set_rebalance_cb(conf.get(), [](rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                                rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* events = static_cast<Events*>(opaque);
    if (events->rebalance) {
      events->rebalance(rk, err, partitions);
    } else {
      rd_kafka_assign(rk, err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? partitions : nullptr);
    }
  });
  std::array<char, 512> error{};
  HandlePtr handle(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error.data(), error.size()));
  if (!handle) throw Failure{exit_code::config, std::string("config error: ") + error.data()};
  conf.release();  // rd_kafka_new took ownership of the configuration
  return handle;
}

HandlePtr Connection::producer(void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*)) {
  ConfPtr conf(rd_kafka_conf_new());
  configure(conf.get(), config_.producer_properties(), {});
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  std::array<char, 512> error{};
  HandlePtr handle(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error.data(), error.size()));
  if (!handle) throw Failure{exit_code::config, std::string("config error: ") + error.data()};
  conf.release();  // rd_kafka_new took ownership of the configuration
  return handle;
}

void Connection::on_rebalance(RebalanceHandler handler) { events_->rebalance = std::move(handler); }

void Connection::check_refusal() const {
  if (!events_->refusal.empty()) {
    throw Failure{exit_code::no_permission, servers() + ": " + events_->refusal};
  }
}

std::map<std::string, int> Connection::topics(rd_kafka_t* client) {
  // Short rounds, serving the error callback in between, so that a refused handshake ends
  // the command at once (77) rather than at the timeout.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    const rd_kafka_metadata_t* raw = nullptr;
    // All topics: a request naming one lets a broker that allows auto-creation create it
    // (some do so even when the client says no).
    const auto err = rd_kafka_metadata(client, 1, nullptr, &raw, static_cast<int>(std::clamp<long long>(left, 1, 500)));
    MetadataPtr metadata(raw);
    rd_kafka_poll(client, 0);  // serves the error callback
    check_refusal();
    if (!err) {
      std::map<std::string, int> out;
      for (int i = 0; i < metadata->topic_cnt; ++i) {
        const auto& topic = metadata->topics[i];
        if (!topic.err) out[topic.topic] = topic.partition_cnt;
      }
      return out;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Failure{exit_code::unavailable, "cannot get metadata from " + servers() + ": " + rd_kafka_err2str(err)};
    }
  }
}

std::vector<PartitionRange> Connection::ranges(rd_kafka_t* client, const std::string& topic) {
  const auto all = topics(client);
  const auto found = all.find(topic);
  if (found == all.end() || found->second == 0) {
    throw Failure{exit_code::unavailable, "topic " + topic + " does not exist on " + servers()};
  }
  std::vector<PartitionRange> out;
  for (std::int32_t partition = 0; partition < found->second; ++partition) {
    PartitionRange range{partition};
    if (auto err =
            rd_kafka_query_watermark_offsets(client, topic.c_str(), partition, &range.low, &range.end, timeout_ms_)) {
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
