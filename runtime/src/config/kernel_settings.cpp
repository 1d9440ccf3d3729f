// A kernel's own settings and named outputs as rows of the same kind as the registry's, so
// loading, validation, --print-config and the reference treat them like the runtime's
// variables. Their values land in Settings::kernel_values. Part of kernel_config (new-kernel
// checks `--setting` and `--output` with it).
#include <algorithm>
#include <set>

#include "config/registry.hpp"
#include "config/settings.hpp"
#include "config/values.hpp"

namespace kernel {

using namespace config_detail;

namespace {

bool is_setting_name(std::string_view name) {
  if (name.empty() || name[0] < 'A' || name[0] > 'Z') return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}

bool is_output_name(std::string_view name) {
  if (name.empty() || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; });
}

std::string env_word(std::string_view name) {
  auto word = upper(name);
  std::replace(word.begin(), word.end(), '-', '_');
  return word;
}

/// The value of one of the setting's types, or the parser's failure as it is.
template <typename T>
Parsed<SettingValue> as_setting_value(Parsed<T> parsed) {
  if (!parsed) return parse_error(std::move(parsed).error());
  return SettingValue(std::move(*parsed));
}

/// `text` as a value of `setting`, or what would be accepted.
Parsed<SettingValue> parse_setting(const KernelSetting& setting, std::string_view text) {
  switch (setting.type) {
    case SettingType::string:
      // A secret is kept exactly as given: a space may be part of one.
      return setting.secret ? SettingValue(std::string(text)) : SettingValue(trim(text));
    case SettingType::integer:
      if (auto value = parse_integer(text)) return SettingValue(*value);
      return parse_error("expected a whole number, e.g. 100");
    case SettingType::number: return as_setting_value(parse_number(text));
    case SettingType::boolean: return as_setting_value(parse_bool(text));
    case SettingType::duration: return as_setting_value(parse_duration(text));
    case SettingType::size: return as_setting_value(parse_size(text));
    case SettingType::list: return SettingValue(split_list(text));
    case SettingType::enumeration: {
      const auto wanted = upper(trim(text));
      for (const auto& choice : setting.choices) {
        if (upper(choice) == wanted) return SettingValue(choice);  // the declared spelling
      }
      return parse_error("expected one of " + join(setting.choices, ", "));
    }
  }
  return parse_error("");  // only a number cast to SettingType from outside its values
}

std::string format_setting(const SettingValue& value) {
  return std::visit(
      [](const auto& held) -> std::string {
        using T = std::decay_t<decltype(held)>;
        if constexpr (std::is_same_v<T, std::string>)
          return held;
        else if constexpr (std::is_same_v<T, long long>)
          return std::to_string(held);
        else if constexpr (std::is_same_v<T, double>)
          return format_number(held);
        else if constexpr (std::is_same_v<T, bool>)
          return held ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::chrono::milliseconds>)
          return format_duration(held);
        else
          return join(held, ",");
      },
      value);
}

VariableSpec setting_row(std::string_view kernel_name, const KernelSetting& setting) {
  VariableSpec spec;
  spec.name = setting_variable(kernel_name, setting.name);
  spec.type = std::string(to_string(setting.type));
  spec.default_value = setting.default_value.value_or("");
  spec.required = !setting.default_value;
  spec.secret = setting.secret;
  spec.description = setting.description.empty() ? "The kernel's setting " + setting.name : setting.description;
  spec.accepted = setting.choices;
  spec.kernel = true;
  spec.read = [setting](std::string_view text, Settings& settings) {
    auto value = parse_setting(setting, text);
    if (!value) return std::move(value).error();
    // A size is held as bytes, like the runtime's sizes.
    settings.kernel_values.set_setting(setting.name, std::move(*value));
    return std::string();
  };
  spec.show = [name = setting.name](const Settings& settings) {
    const auto it = settings.kernel_values.settings().find(name);
    return it == settings.kernel_values.settings().end() ? std::string() : format_setting(it->second);
  };
  spec.check = [](const Settings&) { return std::string(); };
  return spec;
}

VariableSpec output_row(const KernelOutput& output) {
  VariableSpec spec;
  spec.name = output_variable(output.name);
  spec.type = "string";
  spec.default_value = output.topic;
  spec.description = "Topic of the kernel's output " + output.name + " (Context::produce_to(\"" + output.name +
                     "\", ...)); defaults to the kernel's compiled-in topic, or under pipeline naming "
                     "(KERNEL_PIPELINE) to pipeline.<pipeline>.step.<step>.output." +
                     output.name;
  spec.kernel = true;
  spec.read = [name = output.name](std::string_view text, Settings& settings) {
    const auto topic = trim(text);
    if (topic.empty()) return std::string("expected a topic name");
    settings.kernel_values.set_output(name, topic);
    return std::string();
  };
  spec.show = [name = output.name](const Settings& settings) {
    const auto it = settings.kernel_values.outputs().find(name);
    return it == settings.kernel_values.outputs().end() ? std::string() : it->second;
  };
  spec.check = [](const Settings&) { return std::string(); };
  return spec;
}

}  // namespace

std::string_view to_string(SettingType type) {
  switch (type) {
    case SettingType::string: return "string";
    case SettingType::integer: return "int";
    case SettingType::number: return "double";
    case SettingType::boolean: return "bool";
    case SettingType::duration: return "duration";
    case SettingType::size: return "size";
    case SettingType::enumeration: return "enum";
    case SettingType::list: return "list";
  }
  return "string";
}

std::string setting_variable(std::string_view kernel_name, std::string_view setting) {
  return env_word(kernel_name) + "_" + std::string(setting);
}

std::string output_variable(std::string_view output) { return "KAFKA_OUTPUT_TOPIC_" + env_word(output); }

std::vector<std::string> declaration_problems(const KernelDefaults& kernel) {
  std::vector<std::string> problems;
  const bool has_own = !kernel.settings.empty() || !kernel.outputs.empty();
  // Only settings are read from <NAME>_*: a kernel (or one of the runtime's own tools, such as
  // kernel-admin) that declares none reads nothing under its name.
  if (!kernel.settings.empty() && (kernel.name.starts_with("kafka-") || kernel.name.starts_with("kernel-"))) {
    problems.push_back("kernel name \"" + kernel.name +
                       "\" starts with kafka- or kernel-: its settings would be read from KAFKA_* or KERNEL_* "
                       "variables, the runtime's own; choose another name");
  } else if (has_own && kernel.name.empty()) {
    problems.push_back(
        "a kernel with settings or named outputs needs a name (its settings are read from "
        "<NAME>_<SETTING>)");
  }
  std::set<std::string, std::less<>> seen;
  for (const auto& setting : kernel.settings) {
    const auto where = "setting " + setting.name + ": ";
    if (!is_setting_name(setting.name)) {
      problems.push_back("setting \"" + setting.name +
                         "\": expected a name of capital letters, digits and underscores, starting with a letter "
                         "(e.g. BATCH_SIZE)");
      continue;
    }
    if (!seen.insert(setting.name).second) problems.push_back(where + "declared twice; declare each setting once");
    if (setting.type == SettingType::enumeration && setting.choices.empty()) {
      problems.push_back(where + "an enum needs its choices (e.g. {\"fast\", \"safe\"})");
      continue;
    }
    if (setting.type != SettingType::enumeration && !setting.choices.empty()) {
      problems.push_back(where + "only an enum has choices; make it SettingType::enumeration or drop them");
    }
    if (setting.default_value) {
      const bool empty_allowed = setting.type == SettingType::string || setting.type == SettingType::list;
      if (setting.default_value->empty() && !empty_allowed) {
        problems.push_back(where + "an empty default is not a valid " + std::string(to_string(setting.type)) +
                           "; give a value, or no default to make it required");
      } else if (!setting.default_value->empty()) {
        if (auto value = parse_setting(setting, *setting.default_value); !value) {
          problems.push_back(where + "default \"" + (setting.secret ? "(hidden)" : *setting.default_value) +
                             "\" is not a valid " + std::string(to_string(setting.type)) + ": " + value.error());
        }
      }
    }
  }
  std::set<std::string, std::less<>> variables;
  for (const auto& output : kernel.outputs) {
    if (!is_output_name(output.name)) {
      problems.push_back("output \"" + output.name +
                         "\": expected a name of small letters, digits, '-' and '_', starting with a letter "
                         "(e.g. international)");
      continue;
    }
    if (!variables.insert(output_variable(output.name)).second) {
      problems.push_back("output " + output.name + ": declared twice (or as another name that " +
                         output_variable(output.name) + " also stands for); declare each output once");
    }
    if (output.topic.empty()) problems.push_back("output " + output.name + ": needs a topic");
  }
  return problems;
}

std::vector<VariableSpec> kernel_variables(std::string_view kernel_name, const std::vector<KernelSetting>& settings,
                                           const std::vector<KernelOutput>& outputs) {
  std::vector<VariableSpec> rows;
  rows.reserve(settings.size() + outputs.size());
  for (const auto& setting : settings) rows.push_back(setting_row(kernel_name, setting));
  for (const auto& output : outputs) rows.push_back(output_row(output));
  return rows;
}

const SettingValue& KernelValues::find(std::string_view name) const {
  const auto it = settings_.find(name);
  if (it != settings_.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [declared, value] : settings_) names.push_back(declared);
  std::string message = "no setting " + std::string(name) + " is declared in the kernel's spec";
  if (!names.empty()) message += "; did you mean " + closest(name, names) + "?";
  throw std::logic_error(message);
}

void KernelValues::wrong_type(std::string_view name, std::string_view asked) const {
  static constexpr std::string_view held_types[] = {"a string", "an int", "a double", "a bool", "a duration", "a list"};
  const auto& value = settings_.find(name)->second;
  throw std::logic_error("setting " + std::string(name) + " is " + std::string(held_types[value.index()]) +
                         ", not read as " + std::string(asked));
}

const std::string& KernelValues::output_topic(std::string_view name) const {
  const auto it = outputs_.find(name);
  if (it != outputs_.end()) return it->second;
  std::string declared;
  for (const auto& [output, topic] : outputs_) declared += (declared.empty() ? "" : ", ") + output;
  throw std::logic_error("no output named \"" + std::string(name) + "\" is declared in the kernel's spec (" +
                         (declared.empty() ? std::string("it declares none") : "declared: " + declared) +
                         "); add it to KernelSpec::outputs");
}

}  // namespace kernel
