#pragma once
// What the registry's rows are written with: the Row a table fills in for each variable, the
// functions that turn it into a VariableSpec stored in a Settings field, and the librdkafka
// values several rows share. The rows themselves are in registry_kafka.cpp (the Kafka clients),
// registry_kernel.cpp (the kernel's own behaviour) and registry_ops.cpp (the ops endpoints);
// registry.cpp puts them in one table. Part of kernel_config.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "config/codecs.hpp"
#include "config/registry.hpp"

namespace kernel::config_detail::registry_rows {

using namespace codec;

/// The registry's rows, in documentation order: the Kafka clients' (connection, security,
/// producer, consumer), the kernel's behaviour (delivery, pipelines, topics, logging, retries,
/// batches, concurrency) and the ops endpoints'.
std::vector<VariableSpec> kafka_rows();
std::vector<VariableSpec> kernel_rows();
std::vector<VariableSpec> ops_rows();
std::vector<VariableSpec> reply_rows();

// ---- librdkafka values ------------------------------------------------------------------

using PropertyValue = std::function<std::optional<std::string>(const Settings&)>;

inline PropertyValue text_of(std::string Settings::*field) {
  return [field](const Settings& s) { return std::optional(s.*field); };
}

/// An enum as librdkafka reads it (to_string).
template <typename E>
requires std::is_enum_v<E> PropertyValue text_of(E Settings::*field) {
  return [field](const Settings& s) { return std::optional(std::string(to_string(s.*field))); };
}

/// Left to librdkafka when empty (no certificate, no instance id).
inline PropertyValue unless_empty(std::string Settings::*field) {
  return [field](const Settings& s) { return (s.*field).empty() ? std::nullopt : std::optional(s.*field); };
}

template <typename N>
PropertyValue number_of(N Settings::*field) {
  return [field](const Settings& s) { return std::optional(std::to_string(s.*field)); };
}

inline PropertyValue millis(std::chrono::milliseconds Settings::*field) {
  return [field](const Settings& s) { return std::optional(std::to_string((s.*field).count())); };
}

/// SASL credentials go to librdkafka only with a SASL protocol.
inline PropertyValue with_sasl(PropertyValue value) {
  return [value = std::move(value)](const Settings& s) -> std::optional<std::string> {
    if (s.security_protocol != SecurityProtocol::sasl_plaintext && s.security_protocol != SecurityProtocol::sasl_ssl) {
      return std::nullopt;
    }
    return value(s);
  };
}

// ---- Rows ---------------------------------------------------------------------------------

/// What the table writes for each variable besides its type and its place in Settings.
struct Row {
  std::string name;
  std::vector<std::string> aliases = {};
  std::string default_value = {};
  bool secret = false;
  FromKernel from_kernel = FromKernel::nothing;
  std::string description;
  std::vector<RdkafkaProperty> rdkafka = {};
};

inline VariableSpec spec_of(const Row& row, std::string type, std::vector<std::string> accepted) {
  return {row.name,
          row.aliases,
          std::move(type),
          row.default_value,
          row.secret,
          row.description,
          std::move(accepted),
          row.from_kernel,
          {},
          {},
          {},
          false,
          false,
          row.rdkafka};
}

/// A variable whose value lands in `field`.
template <typename T>
VariableSpec stored_in(T Settings::*field, Codec<T> codec, Row row) {
  auto spec = spec_of(row, codec.type, codec.accepted);
  spec.read = [field, parse = codec.parse](std::string_view text, Settings& settings) {
    auto value = parse(text);
    if (!value) return std::move(value).error();
    settings.*field = std::move(*value);
    return std::string();
  };
  spec.show = [field, format = codec.format](const Settings& settings) { return format(settings.*field); };
  spec.check = [field, check = codec.check, example = row.default_value](const Settings& settings) {
    return check ? check(settings.*field, example) : std::string();
  };
  return spec;
}

/// A variable read and checked for compatibility, whose value the runtime does not use.
template <typename T>
VariableSpec accepted_only(Codec<T> codec, Row row) {
  auto spec = spec_of(row, codec.type, codec.accepted);
  spec.read = [parse = codec.parse](std::string_view text, Settings&) {
    auto value = parse(text);
    return value ? std::string() : std::move(value).error();
  };
  spec.show = [shown = row.default_value](const Settings&) { return shown; };
  spec.check = [](const Settings&) { return std::string(); };
  return spec;
}

}  // namespace kernel::config_detail::registry_rows
