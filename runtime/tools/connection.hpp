#pragma once
// kernel-admin's clients, configured like a kernel's (KAFKA_BOOTSTRAP_SERVERS, TLS, SASL,
// KAFKA_PROPERTY_*), for every command: lag, reset-offsets, topic-stats and dlq.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <spdlog/logger.h>

#include "config/settings.hpp"
#include "failure.hpp"
#include "kernel/detail/rdkafka_handles.hpp"

namespace kernel::tools {

/// librdkafka properties that replace or add to the kernel's own.
using Overrides = std::vector<std::pair<std::string, std::string>>;
using RebalanceHandler = std::function<void(rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*)>;

/// The clients of one command. Every request is bounded by `timeout_ms`; an authentication or
/// TLS refusal any client reports ends the command with 77.
class Connection {
 public:
  Connection(const Config& config, int timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// A consumer in `group`; it never creates a topic, and joins the group only if subscribed.
  detail::HandlePtr consumer(const std::string& group, const Overrides& overrides = {});
  /// A producer configured like a kernel's (idempotence, acks, compression); `on_delivery`
  /// gets every delivery report.
  detail::HandlePtr producer(void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*));
  /// Called from rd_kafka_consumer_poll() of a subscribed consumer on each rebalance (without
  /// one, the group's assignment is taken as it is).
  void on_rebalance(RebalanceHandler handler);

  /// Every topic's metadata: an all-topics request, since one naming a topic lets a broker
  /// that allows auto-creation create it (some do so even when the client says no). Failure
  /// 69 when the brokers do not answer within the timeout, 77 on a refusal.
  detail::MetadataPtr metadata(rd_kafka_t* client);
  /// Every topic without an error and its partition count.
  std::map<std::string, int> topics(rd_kafka_t* client);
  /// Throws Failure 77 if a client has reported an authentication or TLS refusal.
  void check_refusal() const;

  const Config& config() const noexcept { return config_; }
  const std::string& servers() const noexcept { return config_.settings().bootstrap_servers; }
  int timeout_ms() const noexcept { return timeout_ms_; }

 private:
  struct Events;
  void configure(rd_kafka_conf_t* conf, const std::vector<Property>& properties, const Overrides& overrides);

  const Config& config_;
  int timeout_ms_;
  std::unique_ptr<Events> events_;  // the clients' opaque: must outlive them
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace kernel::tools
