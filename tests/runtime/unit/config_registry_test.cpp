// The registry as the single source of every variable: defaults that parse, land where they
// are shown and survive a round trip through parse and format (the docs that list them:
// config_docs_test.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "config/registry.hpp"
#include "config/settings.hpp"

namespace config_registry_test {

using namespace kernel;

namespace {

// A value of each type other than any default, to start from before reading the default.
const std::map<std::string, std::string> other_value_by_type{
    {"string", "127.0.0.2"}, {"list", "other"}, {"duration", "7ms"}, {"size", "7KiB"},           {"int", "7"},
    {"float", "1.5"},        {"port", "off"},   {"bool", "maybe"},   {"count,duration", "7,7ms"}};

std::string other_value(const VariableSpec& spec) {
  if (spec.type == "bool") return spec.default_value == "true" ? "false" : "true";
  if (spec.type == "enum")
    return spec.accepted.front() == spec.default_value ? spec.accepted.back() : spec.accepted.front();
  return other_value_by_type.at(spec.type);
}

}  // namespace

TEST_CASE("config registry: every variable's name is a published constant, in the registry's order") {
  const auto& registry = config_registry();
  REQUIRE(env_var::all.size() == registry.size());
  for (std::size_t i = 0; i < registry.size(); ++i) CHECK(env_var::all[i] == registry[i].name);
  CHECK(std::string_view(env_var::KAFKA_BOOTSTRAP_SERVERS) == env_var::KAFKA_BOOTSTRAP_SERVERS);
}

TEST_CASE("config registry: every default parses, lands in Settings{} and round-trips through format") {
  const Settings defaults;
  for (const auto& spec : config_registry()) {
    CAPTURE(spec.name);
    REQUIRE(spec.read);
    REQUIRE(spec.show);
    REQUIRE(spec.check);
    const auto shown = spec.show(defaults);
    if (spec.default_value.empty()) {
      // Unset by default: shown empty, or an enum's first value when the runtime derives it.
      CHECK((shown.empty() || shown == spec.accepted.front()));
      continue;
    }
    // The default, read over another value, is what a default-constructed Settings holds.
    Settings other;
    if (spec.type != "pem") CHECK(spec.read(other_value(spec), other) == "");
    CHECK(spec.read(spec.default_value, other) == "");
    CHECK(spec.show(other) == shown);
    // Formatting gives text that parses back to the same value.
    Settings again;
    if (spec.type != "pem") spec.read(other_value(spec), again);
    CHECK(spec.read(shown, again) == "");
    CHECK(spec.show(again) == shown);
    CHECK(spec.check(defaults) == "");
  }
}

TEST_CASE("config registry: a default-constructed Settings holds the documented values") {
  using namespace std::chrono_literals;
  const Settings s;
  CHECK(s.idempotence);
  CHECK(s.acks == Acks::all);
  CHECK(s.linger == 10ms);
  CHECK(s.compression == Compression::snappy);
  CHECK(s.start_offset == StartOffset::earliest);
  CHECK(s.fetch_max_bytes == 10'000'000);
  CHECK(s.rebalance_timeout == 60s);
  CHECK(s.log_level == LogLevel::info);
  CHECK(s.log_format == LogFormat::text);
  CHECK(s.security_protocol == SecurityProtocol::plaintext);
  CHECK_FALSE(s.sasl_mechanism);
  CHECK(s.retry_multiplier == 2.0);
  CHECK(s.http_port == 8080);
  CHECK(s.http_address == "0.0.0.0");
}

TEST_CASE("config registry: enum values are written as users and librdkafka write them") {
  CHECK(to_string(SecurityProtocol::sasl_ssl) == "SASL_SSL");
  CHECK(to_string(SaslMechanism::scram_sha_256) == "SCRAM-SHA-256");
  CHECK(to_string(Acks::all) == "all");
  CHECK(to_string(Acks::leader) == "1");
  CHECK(to_string(Acks::none) == "0");
  CHECK(to_string(Compression::zstd) == "zstd");
  CHECK(to_string(StartOffset::latest) == "latest");
  CHECK(to_string(LogLevel::warn) == "warn");
  CHECK(to_string(LogFormat::json) == "json");
  // Synonyms are read but not offered: -1 is all, warning is warn.
  const auto& registry = config_registry();
  const auto find = [&](std::string_view name) {
    return *std::find_if(registry.begin(), registry.end(), [&](const VariableSpec& spec) { return spec.name == name; });
  };
  Settings s;
  CHECK(find(env_var::KAFKA_PRODUCER_REQUIRE_ACKS).read("-1", s) == "");
  CHECK(s.acks == Acks::all);
  CHECK(find(env_var::KERNEL_LOG_LEVEL).read("WARNING", s) == "");
  CHECK(s.log_level == LogLevel::warn);
  CHECK(find(env_var::KERNEL_LOG_LEVEL).accepted ==
        std::vector<std::string>{"trace", "debug", "info", "warn", "error"});
  CHECK(find(env_var::KAFKA_PRODUCER_REQUIRE_ACKS).accepted == std::vector<std::string>{"all", "-1", "1"});
}

}  // namespace config_registry_test
