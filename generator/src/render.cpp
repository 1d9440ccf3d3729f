#include "render.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <kainjow/mustache.hpp>

#include "errors.hpp"

namespace new_kernel {

namespace mustache = kainjow::mustache;

namespace {

/// A lookup that remembers what it could not find: a template naming a value the generator
/// does not provide is a broken template, not an empty string.
class StrictContext : public mustache::context<std::string> {
 public:
  using context::context;
  const mustache::data* get(const std::string& name) const override {
    const auto* found = context::get(name);
    if (found == nullptr) missing_.insert(name);
    return found;
  }
  const mustache::data* get_partial(const std::string& name) const override {
    const auto* found = context::get_partial(name);
    if (found == nullptr) missing_.insert("> " + name);
    return found;
  }
  const std::set<std::string>& missing() const noexcept { return missing_; }

 private:
  mutable std::set<std::string> missing_;
};

// Mustache drops a line that holds only a section, inverted, closing, comment or
// set-delimiter tag ("standalone"). kainjow keeps such a line when its section is false and
// drops blank lines next to rendered sections, so templates could not both read like the
// file they make and render it exactly. standalone_lines() removes those lines itself: the
// tag is glued to the next line, followed by a marker that keeps kainjow from treating that
// line as blank; the marker is removed after rendering. Nothing else contains it: answers
// are checked for control characters.
constexpr char line_marker = '\x01';

std::string standalone_lines(std::string_view text) {
  std::string open = "{{", close = "}}";
  std::string out;
  out.reserve(text.size() + 64);
  std::size_t start = 0;
  while (start < text.size()) {
    const auto newline = text.find('\n', start);
    const auto end = newline == std::string_view::npos ? text.size() : newline;
    const auto line = text.substr(start, end - start);
    const auto first = line.find_first_not_of(" \t");
    const auto last = line.find_last_not_of(" \t");
    bool standalone = false;
    if (first != std::string_view::npos) {
      const auto tag = line.substr(first, last - first + 1);
      if (tag.size() > open.size() + close.size() && tag.starts_with(open) && tag.ends_with(close) &&
          tag.find(open, open.size()) == std::string_view::npos) {
        const char sigil = tag[open.size()];
        standalone = sigil == '#' || sigil == '^' || sigil == '/' || sigil == '!' || sigil == '=';
        if (sigil == '=') {
          // {{=<% %>=}}: the new delimiters, separated by whitespace.
          auto inner = std::string(tag.substr(open.size() + 1, tag.size() - open.size() - close.size() - 2));
          const auto space = inner.find(' ');
          if (space != std::string::npos) {
            open = inner.substr(0, space);
            close = inner.substr(inner.find_first_not_of(' ', space));
          }
        }
        if (standalone) {
          out += tag;
          out += line_marker;
        }
      }
    }
    if (!standalone) {
      out += line;
      if (newline != std::string_view::npos) out += '\n';
    }
    start = end + 1;
  }
  return out;
}

std::string without_markers(std::string text) {
  std::erase(text, line_marker);
  return text;
}

/// A partial is included on a line of its own; its last newline is the including line's.
std::string partial_text(const std::string& text) {
  auto prepared = standalone_lines(text);
  if (prepared.ends_with('\n')) prepared.pop_back();
  return prepared;
}

mustache::data flag(bool value) { return mustache::data(value); }
mustache::data text(const std::string& value) { return mustache::data(value); }

mustache::data list_of(const std::vector<std::string>& values, const std::string& field) {
  mustache::data list{mustache::data::type::list};
  for (std::size_t i = 0; i < values.size(); ++i) {
    mustache::data item;
    item.set(field, text(values[i]));
    item.set("first", flag(i == 0));
    item.set("last", flag(i + 1 == values.size()));
    list.push_back(item);
  }
  return list;
}

std::string join(const std::vector<std::string>& values, std::string_view separator) {
  std::string joined;
  for (const auto& value : values) {
    if (!joined.empty()) joined += separator;
    joined += value;
  }
  return joined;
}

/// The value .env.template suggests for a variable: what this kernel uses where the runtime's
/// default is "the kernel's ...", the registry default where it is a literal value.
std::string suggested_value(const kernel::VariableSpec& variable, const Answers& answers) {
  if (variable.secret || variable.required) return {};
  if (variable.kernel) return variable.default_value;  // as the kernel declares it
  switch (variable.from_kernel) {
    case kernel::FromKernel::input_topics: return join(answers.input_topics, ",");
    case kernel::FromKernel::output_topic: return answers.output_topic.value_or("");
    case kernel::FromKernel::dead_letter_topic: return answers.dlq_topic.value_or("");
    case kernel::FromKernel::consumer_group: return answers.consumer_group.value_or("");
    case kernel::FromKernel::client_id: return answers.name;
    case kernel::FromKernel::nothing: break;
  }
  if (variable.name == "KERNEL_PIPELINE") return answers.pipeline;
  if (variable.name == "KERNEL_STEP") return answers.step;
  const auto& value = variable.default_value;
  const bool literal = value.find_first_of(" <>") == std::string::npos;
  return literal ? value : std::string();
}

mustache::data environment_variables(const std::vector<kernel::VariableSpec>& variables, const Answers& answers) {
  constexpr std::size_t comment_width = 92;  // "# " + text stays within 94 columns
  mustache::data list{mustache::data::type::list};
  for (const auto& variable : variables) {
    std::vector<std::string> notes;
    if (!variable.default_value.empty()) notes.push_back(fmt::format("Default: {}.", variable.default_value));
    if (!variable.accepted.empty()) notes.push_back(fmt::format("One of: {}.", join(variable.accepted, ", ")));
    if (!variable.aliases.empty()) notes.push_back(fmt::format("Also read as: {}.", join(variable.aliases, ", ")));
    if (variable.required) notes.push_back("Required: the kernel does not start without it.");
    if (variable.secret) notes.push_back("Secret: never logged; keep it out of version control.");

    mustache::data item;
    item.set("name", text(variable.name));
    item.set("description_lines", list_of(wrap_words(variable.description, comment_width), "line"));
    item.set("note_lines", list_of(wrap_words(join(notes, " "), comment_width), "line"));
    item.set("secret", flag(variable.secret));
    // A name like KAFKA_PROPERTY_<NAME> is a family of variables, not one to set.
    item.set("pattern", flag(variable.name.find('<') != std::string::npos));
    item.set("value", text(suggested_value(variable, answers)));
    // Written as an assignment (not commented out): secrets (to fill in, empty meaning unset) and what this kernel's
    // answers changed from the runtime's defaults (the kernel's spec has no field for them). A pipeline step sets its
    // pipeline and step; its topics and group follow from them.
    const bool step = !answers.pipeline.empty() && !answers.step.empty();
    const bool custom = step ? variable.name == "KERNEL_PIPELINE" || variable.name == "KERNEL_STEP"
                             : (variable.from_kernel == kernel::FromKernel::dead_letter_topic &&
                                answers.dlq_topic != answers.name + ".dlq") ||
                                   (variable.from_kernel == kernel::FromKernel::consumer_group &&
                                    answers.consumer_group != answers.name);
    item.set("active", flag(variable.secret || variable.required || custom));
    list.push_back(item);
  }
  return list;
}

std::string_view cpp_setting_type(kernel::SettingType type) {
  switch (type) {
    case kernel::SettingType::string: return "string";
    case kernel::SettingType::integer: return "integer";
    case kernel::SettingType::number: return "number";
    case kernel::SettingType::boolean: return "boolean";
    case kernel::SettingType::duration: return "duration";
    case kernel::SettingType::size: return "size";
    case kernel::SettingType::enumeration: return "enumeration";
    case kernel::SettingType::list: return "list";
  }
  return "string";
}

/// A value of the setting's type for the kernel's tests (samples, tests/test_settings.hpp) to
/// run it with when it is required: never a real one.
std::string placeholder_of(const kernel::KernelSetting& setting) {
  switch (setting.type) {
    case kernel::SettingType::integer:
    case kernel::SettingType::size: return "1";
    case kernel::SettingType::number: return "1.0";
    case kernel::SettingType::boolean: return "false";
    case kernel::SettingType::duration: return "1s";
    case kernel::SettingType::enumeration: return setting.choices.front();
    case kernel::SettingType::string:
    case kernel::SettingType::list: break;
  }
  return "sample";
}

/// The kernel's own settings and named outputs, for its spec, the manifests and the docs.
void set_declarations(mustache::data& data, const Answers& answers) {
  const auto settings = settings_of(answers);
  mustache::data setting_list{mustache::data::type::list};
  bool any_secret = false;
  for (const auto& setting : settings) {
    mustache::data item;
    item.set("name", text(setting.name));
    item.set("variable", text(kernel::setting_variable(answers.name, setting.name)));
    item.set("type", text(std::string(kernel::to_string(setting.type))));
    item.set("cpp_type", text(std::string(cpp_setting_type(setting.type))));
    item.set("has_default", flag(setting.default_value.has_value()));
    item.set("default_value", text(setting.default_value.value_or("")));
    item.set("description", text(setting.description));
    item.set("secret", flag(setting.secret));
    item.set("required", flag(!setting.default_value));
    item.set("placeholder", text(placeholder_of(setting)));
    item.set("has_choices", flag(!setting.choices.empty()));
    item.set("choices", list_of(setting.choices, "choice"));
    item.set("choices_text", text(join(setting.choices, ", ")));
    setting_list.push_back(item);
    any_secret = any_secret || setting.secret;
  }
  // The samples test runs the kernel: a required setting needs a value of its type there.
  std::string placeholders;
  for (const auto& setting : settings) {
    if (setting.default_value) continue;
    placeholders += (placeholders.empty() ? "" : ";") + kernel::setting_variable(answers.name, setting.name) + "=" +
                    placeholder_of(setting);
  }
  data.set("sample_settings", text(placeholders));
  data.set("has_sample_settings", flag(!placeholders.empty()));
  data.set("settings", setting_list);
  data.set("has_settings", flag(!settings.empty()));
  data.set("has_secret_settings", flag(any_secret));

  const auto outputs = outputs_of(answers);
  mustache::data output_list{mustache::data::type::list};
  for (const auto& output : outputs) {
    mustache::data item;
    item.set("last", flag(&output == &outputs.back()));
    item.set("name", text(output.name));
    item.set("topic", text(output.topic));
    item.set("variable", text(kernel::output_variable(output.name)));
    output_list.push_back(item);
  }
  data.set("outputs", output_list);
  data.set("has_outputs", flag(!outputs.empty()));
  data.set("has_declarations", flag(!settings.empty() || !outputs.empty()));
  data.set("settings_secret", text(answers.name + "-settings"));
}

/// The message format: one flag per format (json, protobuf, avro) and, with a schema, where it
/// is in the kernel and the type the handler reads.
void set_message_format(mustache::data& data, const Answers& answers) {
  const auto format = format_of(answers);
  for (const auto* name : {"json", "protobuf", "avro"}) data.set(name, flag(format == name));
  const std::filesystem::path schema(answers.schema);
  data.set("schema_path", text(schema.generic_string()));
  data.set("schema_stem", text(schema.stem().string()));
  std::string cpp_type = answers.message;  // shop.Order -> shop::Order
  for (auto dot = cpp_type.find('.'); dot != std::string::npos; dot = cpp_type.find('.', dot + 2)) {
    cpp_type.replace(dot, 1, "::");
  }
  data.set("message_name", text(answers.message));
  data.set("message_type", text(cpp_type));
}

mustache::data answers_data(const TemplateSet& templates, const Answers& answers,
                            const std::vector<kernel::VariableSpec>& variables, const Versions& versions) {
  const auto& manifest = templates.manifest();
  mustache::data data;
  data.set("name", text(answers.name));
  data.set("identifier", text(identifier_of(answers.name)));
  auto upper = identifier_of(answers.name);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  data.set("identifier_upper", text(upper));
  data.set("description", text(answers.description));
  data.set("kernel_version", text("0.1.0"));
  data.set("runtime_version", text(versions.runtime));
  data.set("generator_version", text(versions.generator));
  data.set("template_name", text(manifest.name));
  data.set("template_version", text(manifest.version));

  data.set("input_topics", list_of(answers.input_topics, "topic"));
  data.set("first_input_topic", text(answers.input_topics.front()));
  data.set("input_topics_csv", text(join(answers.input_topics, ",")));
  data.set("several_input_topics", flag(answers.input_topics.size() > 1));
  data.set("has_output", flag(answers.output_topic.has_value()));
  data.set("output_topic", text(answers.output_topic.value_or("")));
  data.set("dlq_topic", text(answers.dlq_topic.value_or(answers.name + ".dlq")));
  data.set("consumer_group", text(answers.consumer_group.value_or(answers.name)));
  // A pipeline step's dead-letter topic and group follow from KERNEL_PIPELINE and KERNEL_STEP.
  const bool step = !answers.pipeline.empty() && !answers.step.empty();
  data.set("custom_dlq_topic", flag(!step && answers.dlq_topic && *answers.dlq_topic != answers.name + ".dlq"));
  data.set("custom_consumer_group", flag(!step && answers.consumer_group && *answers.consumer_group != answers.name));

  data.set("pipeline_step", flag(step));
  data.set("pipeline", text(answers.pipeline));
  data.set("step", text(answers.step));
  set_declarations(data, answers);
  set_message_format(data, answers);
  data.set("pattern", text(answers.pattern));
  for (const auto& pattern : manifest.patterns) {
    data.set(pattern.name, flag(pattern.name == answers.pattern));
    if (pattern.name == answers.pattern) data.set("pattern_summary", text(pattern.summary));
  }
  data.set("environment", environment_variables(variables, answers));
  data.set("has_environment", flag(!variables.empty()));
  for (const auto& [name, body] : templates.partials(answers.pattern)) {
    data.set(name, mustache::partial([body = partial_text(body)] { return body; }));
  }
  return data;
}

}  // namespace

std::vector<std::string> wrap_words(std::string_view text, std::size_t width) {
  std::vector<std::string> lines;
  std::istringstream words{std::string(text)};
  std::string word, line;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(std::move(line));
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

std::vector<RenderedFile> render_repository(const TemplateSet& templates, const Answers& answers,
                                            const std::vector<kernel::VariableSpec>& variables,
                                            const Versions& versions) {
  // The runtime's variables, then the kernel's own settings and named outputs.
  auto every_variable = variables;
  for (auto& own : kernel::kernel_variables(answers.name, settings_of(answers), outputs_of(answers))) {
    every_variable.push_back(std::move(own));
  }
  const auto data = answers_data(templates, answers, every_variable, versions);
  std::vector<RenderedFile> files;
  for (const auto& file : templates.manifest().files) {
    mustache::mustache view{standalone_lines(templates.text(file.source))};
    if (!view.is_valid()) {
      throw TemplateError(fmt::format("{}: {}: {}", templates.origin(), file.source, view.error_message()));
    }
    view.set_custom_escape([language = file.language](const std::string& value) { return escape(language, value); });
    StrictContext context{&data};
    std::ostringstream out;
    view.render(context, out);
    if (!view.is_valid()) {
      throw TemplateError(fmt::format("{}: {}: {}", templates.origin(), file.source, view.error_message()));
    }
    if (!context.missing().empty()) {
      std::string names;
      for (const auto& name : context.missing()) names += (names.empty() ? "" : ", ") + name;
      throw TemplateError(fmt::format("{}: {}: no value for {}", templates.origin(), file.source, names));
    }
    files.push_back({file.path, file.id, file.policy, without_markers(std::move(out).str()), file.executable});
  }
  return files;
}

}  // namespace new_kernel
