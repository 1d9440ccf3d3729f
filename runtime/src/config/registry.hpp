#pragma once
// The configuration registry: every variable the runtime reads, declared once as a row
// (VariableSpec) that drives loading, validation, --print-config, docs/configuration.md and the
// generator's .env.template. Part of the kernel::config library, which new-kernel links too;
// not a public header: kernels and their tests never name a row.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/config.hpp"

namespace kernel {

/// A default that the kernel's code gives rather than the registry (see KernelDefaults).
enum class FromKernel { nothing, input_topics, output_topic, dead_letter_topic, consumer_group, client_id };

/// Which librdkafka clients a property is set on. `transactional_producer` is the kernel
/// loop's own producer under exactly_once: no other producer may share its transactional.id.
enum class RdkafkaClients { consumer, producer, both, transactional_producer };

/// A librdkafka property a registry variable sets (rd_kafka_conf_set), declared in the
/// variable's row so that building the properties and refusing a KAFKA_PROPERTY_* for it are
/// loops over the registry.
struct RdkafkaProperty {
  std::string name;  ///< as librdkafka names it (fetch.wait.max.ms)
  RdkafkaClients clients = RdkafkaClients::both;
  /// librdkafka's other names for the same property (request.required.acks for acks).
  std::vector<std::string> aliases = {};
  /// A KAFKA_PROPERTY_* for it is refused, naming the variable: what the runtime's guarantees
  /// rest on. A tuning property (owned = false) may be set that way instead of the variable.
  bool owned = true;
  /// Follows from the variable rather than being what it sets (batch.num.messages from
  /// KAFKA_MAX_POLL_RECORDS): a KAFKA_PROPERTY_* for it replaces it without a conflict.
  bool derived = false;
  /// The value to set for `settings`, or nullopt to leave librdkafka's default.
  std::function<std::optional<std::string>(const Settings& settings)> value = {};
};

/// One variable, declared once in the registry: its names, how its text is read into
/// Settings and written back, its default and its documentation. Loading, validation,
/// --print-config, docs/configuration.md and the generator's .env.template are loops over
/// these rows. A row's functions are closures, so a variable a kernel declares can be a row
/// too, storing its value wherever the kernel keeps it.
struct VariableSpec {
  std::string name;
  std::vector<std::string> aliases;
  std::string type;           ///< string, list, duration, size, bool, int, float, enum, pem, port, count,duration
  std::string default_value;  ///< as a user would write it; empty when unset by default
  bool secret = false;
  std::string description;
  std::vector<std::string> accepted;             ///< for enums, as a user may write them
  FromKernel from_kernel = FromKernel::nothing;  ///< the kernel's code gives the default

  /// Parses `text` and stores it in `settings`; returns what was expected when `text` is
  /// not a value of this variable (`expected a duration with a unit, e.g. 500ms`), else "".
  std::function<std::string(std::string_view text, Settings& settings)> read;
  /// The stored value as a user would write it (what --print-config shows).
  std::function<std::string(const Settings& settings)> show;
  /// What is wrong with the stored value on its own (`expected a duration above 0`), else "".
  /// Relations between variables are checked by the configuration, not here.
  std::function<std::string(const Settings& settings)> check;
  bool required = false;  ///< no default: unset is a configuration error (a kernel's own settings)
  bool kernel = false;    ///< declared by the kernel (its settings and named outputs), not the runtime
  /// The librdkafka properties it sets, in the order to set them; none for most variables.
  std::vector<RdkafkaProperty> rdkafka = {};
};

/// Every variable the runtime reads, in documentation order.
const std::vector<VariableSpec>& config_registry();
/// The registry as JSON (an array of objects with the VariableSpec fields).
std::string config_registry_json();
/// The registry as a Markdown reference (docs/configuration.md).
std::string config_registry_markdown();

/// Registry-style rows for a kernel's own settings, then its named outputs; reading one stores
/// the value in Settings::kernel_values.
std::vector<VariableSpec> kernel_variables(std::string_view kernel_name, const std::vector<KernelSetting>& settings,
                                           const std::vector<KernelOutput>& outputs);

}  // namespace kernel
