#pragma once
// Start-up topic verification and creation (docs/pipelines.md): every topic the kernel reads or
// writes must exist, checked without letting the check create it.
#include <memory>

#include <spdlog/logger.h>

#include "config/pipeline_naming.hpp"
#include "config/settings.hpp"

namespace kernel {
class EmbeddedBroker;
}

namespace kernel::detail {

enum class MissingTopics { refuse, create };

/// Checks, within KERNEL_STARTUP_TIMEOUT, that the brokers answer and every topic of
/// kernel_topics() exists; with MissingTopics::create, creates the missing ones
/// (KERNEL_TOPIC_PARTITIONS, KERNEL_TOPIC_REPLICATION, KERNEL_ERROR_TOPIC_RETENTION) through
/// the admin API, or by the brokers' auto-creation when they do not serve CreateTopics.
/// Existing topics that differ from what the kernel would create get a warning, never a
/// change. Returns 0, or the exit code (69 unavailable or missing, 77 refused) after logging why.
int verify_topics(const Config& config, MissingTopics missing, const std::shared_ptr<spdlog::logger>& log);

/// Creates every topic of kernel_topics() on the in-process broker, through its own API (the
/// mock cluster has no CreateTopics).
void create_embedded_topics(EmbeddedBroker& broker, const Settings& settings);

}  // namespace kernel::detail
