#pragma once
// The requester's reply consumer: no group, no commits, no rebalances. It assigns every
// partition of the reply topic at its high watermark, read before the first request goes out,
// so every reply to a request made afterwards is read and nothing older is.
#include <chrono>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "kernel/config.hpp"
#include "kernel/detail/rdkafka_handles.hpp"

namespace kernel::detail {

/// `<name>.replies.<instance>` (instance: `instance`, else the host name), with
/// KAFKA_TOPIC_PREFIX; `given` instead when not empty (prefixed too). Characters a topic name
/// may not hold become `-`, and the name is cut to Kafka's 249.
std::string reply_topic_name(const Settings& settings, const std::string& name, const std::string& given,
                             const std::string& instance);

/// A consumer on `config`'s connection settings, assigned to every partition of `topic` at its
/// end. Throws std::runtime_error when the topic has no partitions (missing and not
/// auto-created) or its ends cannot be read within `timeout`.
HandlePtr open_reply_consumer(const Config& config, const std::string& topic, std::chrono::milliseconds timeout,
                              const std::shared_ptr<spdlog::logger>& log);

}  // namespace kernel::detail
