#pragma once
// The schema registry a kernel process uses, made once at start from its settings and reached
// from Message::protobuf() and Outgoing::protobuf(), which have no context to carry it.
#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "config/settings.hpp"
#include "schema/schema_registry.hpp"

namespace kernel::schema {

/// The registry and what naming a subject needs.
struct RegistryInstance {
  std::shared_ptr<SchemaRegistry> registry;
  std::string topic_prefix;  ///< KAFKA_TOPIC_PREFIX, added to a topic produce() names
  SubjectStrategy subject_strategy = SubjectStrategy::topic;
};

/// The installed registry, or nullptr when KAFKA_SCHEMA_REGISTRY_URL is unset.
std::shared_ptr<const RegistryInstance> installed_registry();
/// Replaces the installed registry (nullptr: none). For run() and tests.
void install_registry(std::shared_ptr<const RegistryInstance> instance);
/// Counts install_registry() calls: the codecs' per-thread memos of what they checked hold it,
/// since another registry's ids mean other schemas.
std::uint64_t registry_generation() noexcept;

/// Installs the registry `settings` name (none when the URL is unset). Returns an exit code:
/// ok, or config when the URL or the TLS material cannot be used (logged).
int install_registry_from(const Settings& settings, spdlog::logger& log);

}  // namespace kernel::schema
