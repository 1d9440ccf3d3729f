#include "kernel/embedded_broker.hpp"

#include <array>
#include <stdexcept>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "kernel/detail/rdkafka_client.hpp"

namespace kernel {

EmbeddedBroker::EmbeddedBroker(int brokers) {
  detail::ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  const auto broker_count = std::to_string(brokers);
  // The mock cluster is created inside this handle and lives as long as it does.
  if (rd_kafka_conf_set(conf.get(), "test.mock.num.brokers", broker_count.c_str(), error.data(), error.size()) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf.get(), "log_level", "3", error.data(), error.size()) != RD_KAFKA_CONF_OK) {
    throw std::runtime_error(std::string("embedded broker: ") + error.data());
  }
  auto client = detail::create_client(detail::ClientType::producer, conf);
  if (!client) throw std::runtime_error("embedded broker: " + client.message);
  owner_ = std::move(client.handle);
  cluster_ = rd_kafka_handle_mock_cluster(owner_.get());
  if (!cluster_) throw std::runtime_error("embedded broker: librdkafka built without the mock cluster");
  bootstrap_servers_ = rd_kafka_mock_cluster_bootstraps(cluster_);
}

EmbeddedBroker::~EmbeddedBroker() = default;

void EmbeddedBroker::create_topic(const std::string& name, int partitions) {
  const auto err = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
    throw std::runtime_error("embedded broker: cannot create topic " + name + ": " + rd_kafka_err2str(err));
  }
}

}  // namespace kernel
