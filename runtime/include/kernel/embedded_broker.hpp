#pragma once
/// The development broker: librdkafka's mock cluster (real Kafka protocol on 127.0.0.1, a
/// random port). For development and tests only: no TLS, no SASL, no admin API, and each
/// partition keeps only a few megabytes.
#include <memory>
#include <string>

#include "kernel/detail/rdkafka_handles.hpp"

namespace kernel {

class EmbeddedBroker {
 public:
  /// Starts a cluster of `brokers` brokers. Throws std::runtime_error if it cannot.
  explicit EmbeddedBroker(int brokers = 1);
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;
  ~EmbeddedBroker();

  /// `127.0.0.1:PORT[,...]`
  const std::string& bootstrap_servers() const noexcept { return bootstrap_servers_; }
  /// Creates a topic (no-op if it exists). Throws std::runtime_error on failure.
  void create_topic(const std::string& name, int partitions);
  /// The mock cluster (an rd_kafka_mock_cluster_t), for fault injection in tests: include
  /// <librdkafka/rdkafka_mock.h> to call its functions.
  rd_kafka_mock_cluster_s* cluster() const noexcept { return cluster_; }

 private:
  detail::HandlePtr owner_;  // the mock cluster lives inside this handle
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_servers_;
};

}  // namespace kernel
