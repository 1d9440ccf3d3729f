#pragma once
/// What a kernel declares about its own configuration (docs/kernel-settings.md): its settings
/// (KernelSetting), read from `<KERNEL_NAME>_<SETTING>` with the runtime's rules, and its
/// named outputs (KernelOutput), each overridable by `KAFKA_OUTPUT_TOPIC_<NAME>`. The values
/// the configuration resolved for them are a KernelValues, which the handler reads through
/// Context::setting<T>() and Context::produce_to().
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace kernel {

/// The type of a kernel's setting; to_string() gives the name the generator and the docs use.
enum class SettingType { string, integer, number, boolean, duration, size, enumeration, list };
/// "string", "int", "double", "bool", "duration", "size", "enum", "list".
std::string_view to_string(SettingType type);

/// One setting a kernel declares in KernelSpec::settings:
///
///   {.name = "BATCH_SIZE", .type = kernel::SettingType::integer, .default_value = "100",
///    .description = "rows per insert"}
///
/// Its variable is the kernel's name upper-cased, dashes as underscores, then `_` and the
/// setting's name (ORDER_ROUTER_BATCH_SIZE for kernel order-router).
struct KernelSetting {
  // Every member has an initializer, so a declaration may leave any of them out (designated
  // initializers) without -Wmissing-field-initializers.
  std::string name = {};  ///< [A-Z][A-Z0-9_]*, unique within the kernel
  SettingType type = SettingType::string;
  /// As a user would write it; nullopt makes the setting required.
  std::optional<std::string> default_value = {};
  std::string description = {};
  bool secret = false;                    ///< named in errors, never printed nor logged
  std::vector<std::string> choices = {};  ///< the values of an enumeration
};

/// One named output a kernel declares in KernelSpec::outputs: `{"international", "orders.intl"}`.
/// KAFKA_OUTPUT_TOPIC_INTERNATIONAL overrides its topic; Context::produce_to("international", m)
/// writes to it.
struct KernelOutput {
  std::string name = {};   ///< [a-z][a-z0-9_-]*, unique within the kernel
  std::string topic = {};  ///< the default topic (KAFKA_TOPIC_PREFIX applies)
};

/// A setting's value as the configuration read it.
using SettingValue =
    std::variant<std::string, long long, double, bool, std::chrono::milliseconds, std::vector<std::string>>;

/// The values of a kernel's settings and the topics of its named outputs, as configured.
/// Read typed: get<int>("BATCH_SIZE"), get<std::chrono::milliseconds>("POLL_EVERY"). Asking
/// for an undeclared name, or in a type the setting does not have, throws std::logic_error
/// naming the setting and what it is.
class KernelValues {
 public:
  template <typename T>
  T get(std::string_view name) const;

  /// The topic of named output `name`, as configured and without KAFKA_TOPIC_PREFIX; throws
  /// std::logic_error naming the declared outputs when there is no such output.
  const std::string& output_topic(std::string_view name) const;
  /// Every named output: name -> topic (without KAFKA_TOPIC_PREFIX).
  const std::map<std::string, std::string, std::less<>>& outputs() const noexcept { return outputs_; }
  /// Every setting's value (secrets included: callers never print them).
  const std::map<std::string, SettingValue, std::less<>>& settings() const noexcept { return settings_; }

  void set_setting(std::string name, SettingValue value) {
    settings_.insert_or_assign(std::move(name), std::move(value));
  }
  void set_output(std::string name, std::string topic) { outputs_.insert_or_assign(std::move(name), std::move(topic)); }

 private:
  const SettingValue& find(std::string_view name) const;
  [[noreturn]] void wrong_type(std::string_view name, std::string_view asked) const;

  std::map<std::string, SettingValue, std::less<>> settings_;
  std::map<std::string, std::string, std::less<>> outputs_;
};

template <typename T>
T KernelValues::get(std::string_view name) const {
  const auto& value = find(name);
  if constexpr (std::is_same_v<T, bool>) {
    if (const auto* held = std::get_if<bool>(&value)) return *held;
    wrong_type(name, "bool");
  } else if constexpr (std::is_integral_v<T>) {
    if (const auto* held = std::get_if<long long>(&value)) {
      if (*held < static_cast<long long>(std::numeric_limits<T>::min()) ||
          (*held > 0 &&
           static_cast<unsigned long long>(*held) > static_cast<unsigned long long>(std::numeric_limits<T>::max()))) {
        wrong_type(name, "a narrower integer than its value");
      }
      return static_cast<T>(*held);
    }
    wrong_type(name, "an integer");
  } else if constexpr (std::is_floating_point_v<T>) {
    if (const auto* held = std::get_if<double>(&value)) return static_cast<T>(*held);
    if (const auto* held = std::get_if<long long>(&value)) return static_cast<T>(*held);
    wrong_type(name, "a floating-point number");
  } else if constexpr (requires {
                         typename T::rep;
                         typename T::period;
                       }) {
    if (const auto* held = std::get_if<std::chrono::milliseconds>(&value)) {
      return std::chrono::duration_cast<T>(*held);
    }
    wrong_type(name, "a duration");
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (const auto* held = std::get_if<std::vector<std::string>>(&value)) return *held;
    wrong_type(name, "a list");
  } else {
    static_assert(std::is_same_v<T, std::string>,
                  "a setting is read as std::string, bool, an integer, a floating-point number, a "
                  "std::chrono::duration or std::vector<std::string>");
    if (const auto* held = std::get_if<std::string>(&value)) return *held;
    wrong_type(name, "std::string");
  }
}

}  // namespace kernel
