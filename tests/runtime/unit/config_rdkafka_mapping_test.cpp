// The registry's librdkafka mapping: each row's properties exist in librdkafka for the clients
// the row names, are set on exactly those clients, and are refused as KAFKA_PROPERTY_* by
// every name librdkafka gives them.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>

#include "config/rdkafka_properties.hpp"
#include "config/registry.hpp"
#include "config/settings.hpp"

namespace config_rdkafka_mapping_test {

using namespace kernel;
using namespace kernel::config_detail;

namespace {

const KernelDefaults kernel_defaults{"mapping-kernel", {"in"}, std::nullopt};

/// linger.ms -> KAFKA_PROPERTY_LINGER_MS
std::string passthrough_variable(std::string_view property) {
  std::string variable = env_var::KAFKA_PROPERTY_PREFIX;
  for (const char c : property) {
    variable += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return variable;
}

std::vector<std::string> problems_of(Environment env) {
  env.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092");
  try {
    Config::load(kernel_defaults, env, RunMode::production, "/nonexistent-dir/.env");
  } catch (const ConfigError& error) {
    return error.problems();
  }
  return {};
}

/// Settings under which every mapped property has a value to set.
Settings every_property_set() {
  Settings s;
  s.bootstrap_servers = "broker:9092";
  s.group_id = "group";
  s.client_id = "client";
  s.ca_cert_pem = s.client_cert_pem = s.client_key_pem = "pem";
  s.client_key_password = "key-password";
  s.security_protocol = SecurityProtocol::sasl_ssl;
  s.sasl_mechanism = SaslMechanism::plain;
  s.sasl_username = "user";
  s.sasl_password = "password";
  s.instance_id = "member-1";
  s.delivery = DeliveryGuarantee::exactly_once;
  s.transactional_id = "tx";
  s.client_metrics = true;  // statistics.interval.ms (with KERNEL_HTTP_PORT's default, on)
  return s;
}

bool on(RdkafkaClients clients, Client client) {
  switch (clients) {
    case RdkafkaClients::both: return true;
    case RdkafkaClients::consumer: return client == Client::consumer;
    case RdkafkaClients::producer: return client == Client::producer || client == Client::loop_producer;
    case RdkafkaClients::transactional_producer: return client == Client::loop_producer;
  }
  return false;
}

}  // namespace

TEST_CASE("rdkafka mapping: each row's property and aliases are librdkafka's, for the clients it names") {
  std::size_t mapped = 0;
  for (const auto& spec : config_registry()) {
    for (const auto& mapping : spec.rdkafka) {
      CAPTURE(spec.name);
      CAPTURE(mapping.name);
      ++mapped;
      const auto scope = property_scope(mapping.name);
      REQUIRE(scope.has_value());
      const bool consumer = mapping.clients == RdkafkaClients::consumer || mapping.clients == RdkafkaClients::both;
      const bool producer = mapping.clients != RdkafkaClients::consumer;
      CHECK((!consumer || scope->consumer));
      CHECK((!producer || scope->producer));
      // A property on one client only is one librdkafka gives that client only.
      CHECK(consumer == scope->consumer);
      CHECK(producer == scope->producer);
      // librdkafka's own alias for the name is listed, and each alias listed is librdkafka's.
      if (!scope->alias_of.empty()) CHECK(names_property(mapping, scope->alias_of));
      for (const auto& alias : mapping.aliases) {
        CAPTURE(alias);
        const auto alias_scope = property_scope(alias);
        REQUIRE(alias_scope.has_value());
        CHECK(same_property(alias, mapping.name));
      }
    }
  }
  CHECK(mapped >= 20);
}

TEST_CASE("rdkafka mapping: each property is set on exactly its row's clients, in the row's name") {
  const auto settings = every_property_set();
  for (const auto client : {Client::consumer, Client::producer, Client::loop_producer}) {
    const auto properties = build_properties(settings, client, "");
    for (const auto& spec : config_registry()) {
      for (const auto& mapping : spec.rdkafka) {
        CAPTURE(spec.name);
        CAPTURE(mapping.name);
        CAPTURE(static_cast<int>(client));
        const auto found = std::find_if(properties.begin(), properties.end(),
                                        [&](const Property& p) { return p.name == mapping.name; });
        CHECK((found != properties.end()) == on(mapping.clients, client));
        if (found != properties.end()) {
          CHECK(found->variable == spec.name);
          CHECK(found->secret == spec.secret);
          CHECK(found->derived == mapping.derived);
        }
      }
    }
  }
}

TEST_CASE("rdkafka mapping: a KAFKA_PROPERTY_* for an owned property or its alias names the variable to use") {
  std::size_t refused = 0;
  for (const auto& spec : config_registry()) {
    for (const auto& mapping : spec.rdkafka) {
      if (!mapping.owned) continue;
      auto names = mapping.aliases;
      names.push_back(mapping.name);
      for (const auto& name : names) {
        const auto variable = passthrough_variable(name);
        CAPTURE(variable);
        const auto problems = problems_of({{variable, "1"}});
        REQUIRE(problems.size() == 1);
        CHECK(problems.front().starts_with("config error: " + variable));
        CHECK(problems.front().find(name + " is set by the runtime; use " + spec.name + " instead") !=
              std::string::npos);
        ++refused;
      }
    }
  }
  CHECK(refused >= 20);
}

TEST_CASE("rdkafka mapping: a tuning property set by an alias and by its variable is refused as set twice") {
  std::size_t checked = 0;
  const Settings defaults;
  for (const auto& spec : config_registry()) {
    for (const auto& mapping : spec.rdkafka) {
      if (mapping.owned || mapping.derived || spec.default_value.empty()) continue;
      const auto value = mapping.value(defaults);
      if (!value) continue;
      for (const auto& alias : mapping.aliases) {
        const auto variable = passthrough_variable(alias);
        CAPTURE(variable);
        const auto problems = problems_of({{variable, *value}, {spec.name, spec.default_value}});
        REQUIRE(problems.size() == 1);
        CHECK(problems.front().find(alias + " is also set by " + spec.name) != std::string::npos);
        ++checked;
      }
    }
  }
  // linger.ms (queue.buffering.max.ms) and compression.type (compression.codec)
  CHECK(checked >= 2);
}

}  // namespace config_rdkafka_mapping_test
