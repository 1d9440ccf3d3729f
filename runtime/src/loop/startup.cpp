// Start-up: the clients, their error callback, and the subscription. The brokers and topics are
// checked before the loop starts (verify_topics, run/topics.cpp).
#include "loop/kernel_loop.hpp"

#include <array>
#include <cstdlib>
#include <utility>

#include "config/pipeline_naming.hpp"
#include "config/transactional_id.hpp"
#include "core/refusal.hpp"
#include "kernel/detail/rdkafka_client.hpp"
#include "log/client_errors.hpp"
#include "log/logging.hpp"
#include "loop/commit_strategy.hpp"
#include "loop/fleet_commands.hpp"
#include "loop/loop_internal.hpp"

namespace kernel::detail {

HandlePtr KernelLoop::make_client(rd_kafka_type_t type, const std::vector<Property>& properties) {
  ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  for (const auto& property : properties) {
    if (rd_kafka_conf_set(conf.get(), property.name.c_str(), property.value.c_str(), error.data(), error.size()) !=
        RD_KAFKA_CONF_OK) {
      throw StartupError(
          exit_code::config,
          "config error: " + (property.variable.empty() ? property.name : property.variable) + ": " + error.data());
    }
  }
  route_rdkafka_logs(conf.get(), log_);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_error_cb(conf.get(), &KernelLoop::on_error);
  // Served by the polls like the other callbacks, every KERNEL_CLIENT_METRICS_INTERVAL.
  if (settings().client_metrics && metrics_) {
    rd_kafka_conf_set_stats_cb(conf.get(), [](rd_kafka_t*, char* json, std::size_t length, void* opaque) {
      static_cast<KernelLoop*>(opaque)->status_.client_statistics({json, length});
      return 0;  // librdkafka frees the text
    });
  }
  if (type == RD_KAFKA_CONSUMER) {
    rd_kafka_conf_set_rebalance_cb(conf.get(), &KernelLoop::on_rebalance);
    // No offset_commit_cb: each commit names its own callback (OffsetCommits::commit), so a
    // synchronous commit is not reported a second time through the consumer queue.
  } else {
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &KernelLoop::on_delivery);
  }
  auto client = create_client(type == RD_KAFKA_CONSUMER ? ClientType::consumer : ClientType::producer, conf);
  if (!client) throw StartupError(exit_code::config, "config error: " + client.message);
  return std::move(client.handle);
}

void KernelLoop::start() {
  // Only the loop's producer is transactional (exactly_once): tools that share the configuration
  // (kernel-admin dlq replay, topic creation) must never register, and so fence, its id.
  output_.set_producer(make_client(RD_KAFKA_PRODUCER, config_.loop_producer_properties()));
  consumer_ = make_client(RD_KAFKA_CONSUMER, config_.consumer_properties());
  table_.set_consumer(consumer_.get());  // pauses and resumes go to it
  std::unique_ptr<Transaction> transaction;
  if (settings().delivery == DeliveryGuarantee::exactly_once) {
    transaction =
        std::make_unique<Transaction>(output_.producer(), consumer_.get(), transactional_id(settings()), log_);
    transaction->init(settings().startup_timeout);
    log_->info("exactly-once delivery: transactional.id {}", transaction->id());
  }
  // Serve the consumer's main events (errors, logs, rebalances) from consumer_poll().
  rd_kafka_poll_set_consumer(consumer_.get());
  consumer_queue_.reset(rd_kafka_queue_get_consumer(consumer_.get()));
  start_commits(std::move(transaction));  // exactly-once when a transaction was made
  // The brokers and every topic were checked before the loop was made (run/topics.cpp).
  // Exactly-once with workers: a concluded call's records wait until every lower offset of its
  // partition is concluded (must_hold()).
  auto* exactly_once = commits_->exactly_once();
  output_.start(exactly_once, exactly_once && executor_ && executor_->concurrent());

  // Fleet-wide pauses before the first assignment: an instance started (or restarted) while
  // one holds starts paused. Read on a thread of its own, never by the loop.
  fleet_ = std::make_unique<FleetCommands>(control_topic(settings()), config_.consumer_properties(), log_, metrics_);
  fleet_->start(settings().startup_timeout);
  status_.attach_fleet(fleet_.get());

  PartitionListPtr topics(rd_kafka_topic_partition_list_new(static_cast<int>(settings().input_topics.size())));
  // The kernel consumes its retry topics too (retry_topics.cpp).
  for (const std::vector<std::string>* list : {&settings().input_topics, &retries_.retry_topic_names()}) {
    for (const auto& topic : *list)
      rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (auto err = rd_kafka_subscribe(consumer_.get(), topics.get())) {
    throw StartupError(exit_code::software, std::string("cannot subscribe: ") + rd_kafka_err2str(err));
  }
  subscribed_ = true;
  std::string inputs;
  for (const auto& topic : settings().input_topics) inputs += (inputs.empty() ? "" : ",") + topic;
  log_->info("subscribed to {} as group {} (output {}, dead letters {})", inputs, settings().group_id,
             settings().output_topic.value_or("none"), settings().dlq_topic);
}

void KernelLoop::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KernelLoop*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  // An authentication or TLS refusal: librdkafka logs it itself, and the start-up topic check
  // (run/topics.cpp), which runs before the loop, ends start-up with 77 on the first.
  if (describe_refusal(err, reason, self->settings().bootstrap_servers)) {
    self->log_->debug("{}: {}", rd_kafka_name(rk), kernel::mask_secrets(reason));
    return;
  }
  // /readyz: no broker at all for longer than the session timeout means the group is lost.
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && self->ops_ && rk == self->consumer_.get())
    self->ops_->brokers_down(Clock::now());
  // Before joining, start-up reports unreachable brokers itself (exit 69).
  if (log_client_error(*self->log_, rd_kafka_name(rk), err, reason, self->joined()) == ClientErrorKind::fatal) {
    self->stop_on_fatal_error(rk);
  }
}

}  // namespace kernel::detail
