// The process's schema registry (registry_instance.hpp).
#include "schema/registry_instance.hpp"

#include <atomic>
#include <stdexcept>

#include "kernel/exit_codes.hpp"

namespace kernel::schema {

namespace {

// Read on a miss of the codecs' per-thread memo only, so an atomic shared_ptr costs nothing per message.
std::atomic<std::shared_ptr<const RegistryInstance>>& slot() {
  static std::atomic<std::shared_ptr<const RegistryInstance>> instance;
  return instance;
}

std::atomic<std::uint64_t> generation{0};

}  // namespace

std::shared_ptr<const RegistryInstance> installed_registry() { return slot().load(); }

void install_registry(std::shared_ptr<const RegistryInstance> instance) {
  slot().store(std::move(instance));
  generation.fetch_add(1);
}

std::uint64_t registry_generation() noexcept { return generation.load(std::memory_order_relaxed); }

int install_registry_from(const Settings& settings, spdlog::logger& log) {
  if (settings.schema_registry_url.empty()) {
    install_registry(nullptr);
    return exit_code::ok;
  }
  RegistryOptions options;
  options.url = settings.schema_registry_url;
  options.user = settings.schema_registry_user;
  options.password = settings.schema_registry_password;
  options.ca_pem = settings.ca_cert_pem;
  options.client_cert_pem = settings.client_cert_pem;
  options.client_key_pem = settings.client_key_pem;
  options.client_key_password = settings.client_key_password;
  auto instance = std::make_shared<RegistryInstance>();
  try {
    instance->registry = std::make_shared<SchemaRegistry>(options);
  } catch (const std::invalid_argument& error) {
    log.error("KAFKA_SCHEMA_REGISTRY_URL: {}", error.what());
    return exit_code::config;
  }
  instance->topic_prefix = settings.topic_prefix;
  instance->subject_strategy = settings.subject_strategy;
  install_registry(std::move(instance));
  log.info("schema registry: {}", settings.schema_registry_url);
  return exit_code::ok;
}

}  // namespace kernel::schema
