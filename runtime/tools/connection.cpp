#include "connection.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include "core/refusal.hpp"
#include "kernel/detail/rdkafka_client.hpp"
#include "kernel/exit_codes.hpp"
#include "log/logging.hpp"

namespace kernel::tools {

using namespace kernel::detail;

/// What the clients report through their opaque: the first refusal, and rebalances.
struct Connection::Events {
  std::string servers;
  std::string refusal;
  RebalanceHandler rebalance;
};

Connection::Connection(const Config& config, int timeout_ms)
    : config_(config), timeout_ms_(timeout_ms), events_(std::make_unique<Events>()) {
  const auto& s = config.settings();
  events_->servers = s.bootstrap_servers;
  // librdkafka's own lines only from errors up, unless asked: the tool's output is its report.
  log_ = make_logger("kernel-admin", std::string(s.log_level == LogLevel::info ? "error" : to_string(s.log_level)),
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
  // The error callback runs in the thread that polls, this one.
  rd_kafka_conf_set_error_cb(conf, [](rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto& events = *static_cast<Events*>(opaque);
    if (!events.refusal.empty()) return;
    if (auto refusal = describe_refusal(err, reason, events.servers)) events.refusal = std::move(*refusal);
  });
  route_rdkafka_logs(conf, log_);
}

HandlePtr Connection::consumer(const std::string& group, const Overrides& overrides) {
  ConfPtr conf(rd_kafka_conf_new());
  Overrides all = {{"group.id", group},
                   // Looking at a topic must never create it, whatever KAFKA_PROPERTY_* says.
                   // (Brokers that take only Metadata v0-v3, the development broker among
                   // them, ignore this flag: metadata() therefore never names a topic.)
                   {"allow.auto.create.topics", "false"}};
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
  auto client = create_client(ClientType::consumer, conf);
  if (!client) throw Failure{exit_code::config, "config error: " + client.message};
  return std::move(client.handle);
}

HandlePtr Connection::producer(void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*)) {
  ConfPtr conf(rd_kafka_conf_new());
  configure(conf.get(), config_.producer_properties(), {});
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  auto client = create_client(ClientType::producer, conf);
  if (!client) throw Failure{exit_code::config, "config error: " + client.message};
  return std::move(client.handle);
}

void Connection::on_rebalance(RebalanceHandler handler) { events_->rebalance = std::move(handler); }

void Connection::check_refusal() const {
  if (!events_->refusal.empty()) throw Failure{exit_code::no_permission, events_->refusal};
}

MetadataPtr Connection::metadata(rd_kafka_t* client) {
  // Short rounds, serving the error callback in between, so that a refused handshake ends
  // the command at once (77) rather than at the timeout.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    const rd_kafka_metadata_t* raw = nullptr;
    const auto err = rd_kafka_metadata(client, 1, nullptr, &raw, static_cast<int>(std::clamp<long long>(left, 1, 500)));
    MetadataPtr metadata(raw);
    rd_kafka_poll(client, 0);  // serves the error callback
    check_refusal();
    if (!err) return metadata;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Failure{exit_code::unavailable, "cannot get metadata from " + servers() + ": " + rd_kafka_err2str(err)};
    }
  }
}

std::map<std::string, int> Connection::topics(rd_kafka_t* client) {
  const auto all = metadata(client);
  std::map<std::string, int> out;
  for (int i = 0; i < all->topic_cnt; ++i) {
    const auto& topic = all->topics[i];
    if (!topic.err) out[topic.topic] = topic.partition_cnt;
  }
  return out;
}

}  // namespace kernel::tools
