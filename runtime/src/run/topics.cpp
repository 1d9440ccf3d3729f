// Start-up topic verification and creation. The check asks for the metadata of every topic
// (never of one by name), so a broker's auto-creation is not triggered by looking.
#include "run/topics.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "core/refusal.hpp"
#include "kernel/detail/rdkafka_client.hpp"
#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/embedded_broker.hpp"
#include "kernel/run.hpp"
#include "log/logging.hpp"

namespace kernel::detail {

namespace {

using Clock = std::chrono::steady_clock;

struct TopicShape {
  int partitions = 0;
  int replication = 0;
};

/// What the brokers said: their count and the topics that exist.
struct ClusterView {
  int brokers = 0;
  std::map<std::string, TopicShape, std::less<>> topics;
};

/// The first authentication or TLS refusal the error callback sees (core/refusal.hpp).
struct Refusal {
  std::string servers;
  std::atomic<bool> refused{false};
  std::string message;
};

void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* refusal = static_cast<Refusal*>(opaque);
  if (refusal->refused.load()) return;
  if (auto message = describe_refusal(err, reason, refusal->servers)) {
    refusal->message = std::move(*message);
    refusal->refused.store(true);  // publishes message to the thread that reads it
  }
}

/// A producer handle for metadata and admin requests; `auto_create` lets a metadata request
/// for one topic create it.
HandlePtr make_handle(const Config& config, bool auto_create, Refusal& refusal,
                      const std::shared_ptr<spdlog::logger>& log) {
  ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  for (const auto& property : config.producer_properties()) {
    // Checked when the configuration was loaded; a refusal here cannot happen.
    rd_kafka_conf_set(conf.get(), property.name.c_str(), property.value.c_str(), error.data(), error.size());
  }
  rd_kafka_conf_set(conf.get(), "allow.auto.create.topics", auto_create ? "true" : "false", error.data(), error.size());
  route_rdkafka_logs(conf.get(), log);
  rd_kafka_conf_set_opaque(conf.get(), &refusal);
  rd_kafka_conf_set_error_cb(conf.get(), &on_error);
  auto client = create_client(ClientType::producer, conf);
  if (!client) throw std::runtime_error("cannot create a client: " + client.message);
  return std::move(client.handle);
}

/// The cluster as its metadata describes it, or why it did not answer.
struct ClusterAnswer {
  std::optional<ClusterView> view;
  std::error_code error;  ///< kernel category: librdkafka's code
};

/// Every topic's metadata (all_topics: no topic is named, so none is auto-created).
ClusterAnswer describe_cluster(rd_kafka_t* handle, std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(handle, 1, nullptr, &raw, static_cast<int>(timeout.count()));
  MetadataPtr metadata(raw);
  if (err) return {std::nullopt, make_rdkafka_error_code(err)};
  ClusterView view;
  view.brokers = metadata->broker_cnt;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& topic = metadata->topics[i];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR || topic.partition_cnt == 0) continue;
    view.topics[topic.topic] = {topic.partition_cnt, topic.partitions[0].replica_cnt};
  }
  return {std::move(view), {}};
}

bool keeps_errors(KernelTopic::Use use) {
  return use == KernelTopic::Use::dead_letter || use == KernelTopic::Use::error;
}

/// Asks the admin API to create `topics`. Returns false when the brokers do not serve
/// CreateTopics (the mock cluster times out waiting for a controller); `failures` gets the
/// topics a broker refused, with why.
bool create_with_admin(rd_kafka_t* handle, const std::vector<KernelTopic>& topics, const TopicShape& shape,
                       const Settings& settings, std::chrono::milliseconds timeout,
                       std::vector<std::string>& failures) {
  std::array<char, 512> error{};
  std::vector<NewTopicPtr> owned;
  std::vector<rd_kafka_NewTopic_t*> requests;
  const auto retention = std::to_string(settings.error_topic_retention.count());
  for (const auto& topic : topics) {
    // The control topic has one partition, so its commands keep one order, and is compacted:
    // it keeps the last command of each scope for instances that start later.
    const bool control = topic.use == KernelTopic::Use::control;
    owned.emplace_back(rd_kafka_NewTopic_new(topic.name.c_str(), control ? 1 : shape.partitions, shape.replication,
                                             error.data(), error.size()));
    if (!owned.back()) {
      failures.push_back(topic.name + ": " + error.data());
      owned.pop_back();
      continue;
    }
    if (keeps_errors(topic.use)) rd_kafka_NewTopic_set_config(owned.back().get(), "retention.ms", retention.c_str());
    if (control) rd_kafka_NewTopic_set_config(owned.back().get(), "cleanup.policy", "compact");
    requests.push_back(owned.back().get());
  }
  if (requests.empty()) return true;
  AdminOptionsPtr options(rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()), error.data(),
                                            error.size());
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), static_cast<int>(timeout.count()), error.data(),
                                              error.size());
  QueuePtr queue(rd_kafka_queue_new(handle));
  rd_kafka_CreateTopics(handle, requests.data(), requests.size(), options.get(), queue.get());
  EventPtr event(rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()) + 1000));
  if (!event) return false;
  const auto err = rd_kafka_event_error(event.get());
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
      err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION) {
    return false;
  }
  if (err) {
    failures.push_back(std::string("CreateTopics: ") + rd_kafka_event_error_string(event.get()));
    return true;
  }
  std::size_t count = 0;
  const auto** results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto topic_err = rd_kafka_topic_result_error(results[i]);
    if (topic_err == RD_KAFKA_RESP_ERR_NO_ERROR || topic_err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
    const char* why = rd_kafka_topic_result_error_string(results[i]);
    failures.push_back(std::string(rd_kafka_topic_result_name(results[i])) + ": " +
                       (why ? why : rd_kafka_err2str(topic_err)));
  }
  return true;
}

/// Creates by the brokers' auto-creation: a metadata request naming each topic.
void create_by_metadata(rd_kafka_t* handle, const std::vector<KernelTopic>& topics) {
  for (const auto& topic : topics) {
    TopicPtr named(rd_kafka_topic_new(handle, topic.name.c_str(), nullptr));
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_metadata(handle, 0, named.get(), &raw, 2000);
    MetadataPtr metadata(raw);
  }
}

std::string names_of(const std::vector<KernelTopic>& topics) {
  std::string names;
  for (const auto& topic : topics) names += (names.empty() ? "" : ", ") + topic.name;
  return names;
}

}  // namespace

int verify_topics(const Config& config, MissingTopics missing_topics, const std::shared_ptr<spdlog::logger>& log) {
  const auto& s = config.settings();
  const auto deadline = Clock::now() + s.startup_timeout;
  const auto remaining = [&] {
    return std::max(std::chrono::milliseconds(100),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  };
  Refusal refusal;
  refusal.servers = s.bootstrap_servers;
  HandlePtr handle;
  try {
    handle = make_handle(config, false, refusal, log);
  } catch (const std::exception& error) {
    log->error("{}", error.what());
    return exit_code::software;
  }

  // The brokers must answer.
  std::optional<ClusterView> view;
  std::error_code error;
  while (true) {
    // Error callbacks are served by polling: a refused handshake ends start-up at once.
    rd_kafka_poll(handle.get(), 0);
    if (refusal.refused.load()) break;
    auto answer = describe_cluster(handle.get(), std::min(remaining(), std::chrono::milliseconds(500)));
    view = std::move(answer.view);
    error = answer.error;
    if (view || Clock::now() >= deadline) break;
    rd_kafka_poll(handle.get(), 100);  // waits, serving error callbacks
  }
  if (refusal.refused.load()) {
    log->error("{}", refusal.message);
    return exit_code::no_permission;
  }
  if (!view) {
    log->error(
        "cannot reach the brokers {} within {} ms ({}); check KAFKA_BOOTSTRAP_SERVERS and the network, or "
        "raise KERNEL_STARTUP_TIMEOUT",
        s.bootstrap_servers, s.startup_timeout.count(), error.message());
    return exit_code::unavailable;
  }

  const auto topics = kernel_topics(s);
  std::vector<KernelTopic> missing;
  for (const auto& topic : topics) {
    if (view->topics.contains(topic.name)) continue;
    // Without its control topic a kernel runs; only fleet-wide pauses cannot reach it.
    if (topic.use == KernelTopic::Use::control && missing_topics == MissingTopics::refuse) {
      log->warn(
          "control topic {} missing on {}: fleet-wide pauses (kernel-admin pause) cannot reach this kernel; "
          "create it ({} --create-topics)",
          topic.name, s.bootstrap_servers, s.kernel_name);
      continue;
    }
    missing.push_back(topic);
  }

  // What the kernel would create: the first input's partitions unless told, replication
  // capped at the brokers there are.
  TopicShape shape;
  const auto input = s.input_topics.empty() ? view->topics.end() : view->topics.find(s.input_topics.front());
  shape.partitions = s.topic_partitions.value_or(input != view->topics.end() ? input->second.partitions : 1);
  shape.replication = std::min(s.topic_replication, std::max(1, view->brokers));
  for (const auto& topic : topics) {
    const auto found = view->topics.find(topic.name);
    // Inputs and whitelisted topics belong to other steps: their shape is theirs to choose.
    if (found == view->topics.end() || topic.use == KernelTopic::Use::input || topic.use == KernelTopic::Use::allowed ||
        topic.use == KernelTopic::Use::control) {
      continue;
    }
    if (found->second.partitions != shape.partitions || found->second.replication != shape.replication) {
      log->warn(
          "topic {} has {} partitions and replication {}; this kernel expects {} partitions and replication "
          "{} (KERNEL_TOPIC_PARTITIONS, KERNEL_TOPIC_REPLICATION); left unchanged",
          topic.name, found->second.partitions, found->second.replication, shape.partitions, shape.replication);
    }
  }
  if (missing.empty()) return exit_code::ok;

  if (missing_topics == MissingTopics::refuse) {
    log->error(
        "topics missing on {}: {}; create them ({} --create-topics, or KERNEL_CREATE_TOPICS=true), or run "
        "with --dev",
        s.bootstrap_servers, names_of(missing), s.kernel_name);
    return exit_code::unavailable;
  }
  if (s.topic_replication > shape.replication) {
    log->warn("KERNEL_TOPIC_REPLICATION={} but the cluster has {}: creating topics with replication {}",
              s.topic_replication, count_of(static_cast<std::size_t>(view->brokers), "broker"), shape.replication);
  }
  std::vector<std::string> failures;
  if (create_with_admin(handle.get(), missing, shape, s, std::min(remaining(), std::chrono::milliseconds(3000)),
                        failures)) {
    if (!failures.empty()) {
      for (const auto& failure : failures) log->error("cannot create topic {}", failure);
      return exit_code::unavailable;
    }
    for (const auto& topic : missing) {
      log->info("created topic {} ({} partitions, replication {}{})", topic.name,
                topic.use == KernelTopic::Use::control ? 1 : shape.partitions, shape.replication,
                keeps_errors(topic.use) ? ", retention " + std::to_string(s.error_topic_retention.count()) + " ms"
                                        : std::string());
    }
  } else {
    log->warn(
        "the brokers at {} do not serve CreateTopics (kernel-dev-broker, the mock cluster): asking them to "
        "auto-create {} by metadata requests, with the brokers' own partitions, replication and retention",
        s.bootstrap_servers, names_of(missing));
    Refusal creating_refusal;
    try {
      create_by_metadata(make_handle(config, true, creating_refusal, log).get(), missing);
    } catch (const std::exception& error) {
      log->error("{}", error.what());
      return exit_code::software;
    }
  }

  // Created topics take a moment to appear in every broker's metadata.
  while (true) {
    std::vector<KernelTopic> still_missing;
    if (auto again = describe_cluster(handle.get(), std::min(remaining(), std::chrono::milliseconds(2000))).view) {
      for (const auto& topic : missing) {
        if (!again->topics.contains(topic.name)) still_missing.push_back(topic);
      }
      if (still_missing.empty()) return exit_code::ok;
      missing = std::move(still_missing);
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // bounded by the deadline
  }
  log->error("topics still missing on {} within KERNEL_STARTUP_TIMEOUT: {}; do the brokers allow creating them?",
             s.bootstrap_servers, names_of(missing));
  return exit_code::unavailable;
}

void create_embedded_topics(EmbeddedBroker& broker, const Settings& settings) {
  constexpr int default_partitions = 4;
  for (const auto& topic : kernel_topics(settings)) {
    const bool control = topic.use == KernelTopic::Use::control;
    broker.create_topic(topic.name, control ? 1 : settings.topic_partitions.value_or(default_partitions));
  }
}

}  // namespace kernel::detail
