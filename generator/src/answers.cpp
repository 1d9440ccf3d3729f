#include "answers.hpp"

#include <algorithm>
#include <array>
#include <iterator>

#include <fmt/format.h>
#include <kernel/config.hpp>
#include <kernel/jsonl.hpp>

#include "errors.hpp"
#include "schema_file.hpp"

namespace new_kernel {

namespace {

constexpr std::size_t max_name_length = 63;  // a DNS label: the name is also a Kubernetes name
constexpr std::size_t max_description_length = 200;

// C++20 keywords and alternative tokens: the name with dashes turned into underscores
// becomes a namespace.
constexpr std::array cpp_keywords{
    "alignas",     "alignof",   "and",        "and_eq",    "asm",      "auto",         "bitand",
    "bitor",       "bool",      "break",      "case",      "catch",    "char",         "char8_t",
    "char16_t",    "char32_t",  "class",      "compl",     "concept",  "const",        "consteval",
    "constexpr",   "constinit", "const_cast", "continue",  "co_await", "co_return",    "co_yield",
    "decltype",    "default",   "delete",     "do",        "double",   "dynamic_cast", "else",
    "enum",        "explicit",  "export",     "extern",    "false",    "float",        "for",
    "friend",      "goto",      "if",         "inline",    "int",      "long",         "mutable",
    "namespace",   "new",       "noexcept",   "not",       "not_eq",   "nullptr",      "operator",
    "or",          "or_eq",     "private",    "protected", "public",   "register",     "reinterpret_cast",
    "requires",    "return",    "short",      "signed",    "sizeof",   "static",       "static_assert",
    "static_cast", "struct",    "switch",     "template",  "this",     "thread_local", "throw",
    "true",        "try",       "typedef",    "typeid",    "typename", "union",        "unsigned",
    "using",       "virtual",   "void",       "volatile",  "wchar_t",  "while",        "xor",
    "xor_eq"};

// Targets CMake and CTest define for themselves.
constexpr std::array cmake_targets{
    "all",  "install", "install_strip",  "install_local", "test",          "clean",
    "help", "package", "package_source", "edit_cache",    "rebuild_cache", "list_install_components"};

// new-kernel's own commands: `new-kernel upgrade` must never be read as a kernel's name.
constexpr std::array generator_commands{"upgrade", "check", "diff", "add", "remove"};

// Names the runtime uses: its namespace and package (`kernel::`, `kernel_runtime`).
constexpr std::array runtime_names{"kernel", "runtime"};

template <std::size_t N>
bool contains(const std::array<const char*, N>& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

std::vector<std::string> check_kafka_name(std::string_view what, std::string_view value) {
  // The runtime's rule and words: a name refused here would be refused by the kernel too.
  if (auto problem = kernel::topic_name_problem(value); !problem.empty()) {
    return {fmt::format("{} \"{}\" {}", what, value, problem)};
  }
  return {};
}

}  // namespace

/// What the user probably meant: lowercase, other characters as single dashes.
std::string suggest_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if ((lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9')) {
      out += lower;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.empty()) return "my-kernel";
  if (!(out.front() >= 'a' && out.front() <= 'z')) out = "k-" + out;
  return out.substr(0, max_name_length);
}

std::vector<std::string> check_name(std::string_view name) {
  std::vector<std::string> problems;
  const auto accepted = fmt::format("use lowercase letters, digits and single dashes, starting with a letter (e.g. {})",
                                    suggest_name(name));
  if (name.empty()) {
    problems.push_back(fmt::format("the kernel name is empty: {}", accepted));
    return problems;
  }
  if (name.size() > max_name_length) {
    problems.push_back(
        fmt::format("name \"{}\" is {} characters long: at most {}", name, name.size(), max_name_length));
  }
  auto allowed = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
  if (allowed(name.front()) && !(name.front() >= 'a' && name.front() <= 'z')) {
    problems.push_back(
        fmt::format("name \"{}\" starts with {}: {}", name, kernel::character_name(name.front()), accepted));
  }
  std::string bad_characters;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (allowed(name[i]) || name.substr(0, i).find(name[i]) != std::string_view::npos) continue;
    bad_characters += (bad_characters.empty() ? "" : ", ") + kernel::character_name(name[i]);
  }
  if (!bad_characters.empty()) {
    problems.push_back(fmt::format("name \"{}\" contains {}: {}", name, bad_characters, accepted));
  }
  if (name.back() == '-') {
    problems.push_back(fmt::format("name \"{}\" ends with a dash: {}", name, accepted));
  }
  if (name.find("--") != std::string_view::npos) {
    problems.push_back(fmt::format("name \"{}\" has a doubled dash: {}", name, accepted));
  }
  if (!problems.empty()) return problems;

  const auto identifier = identifier_of(name);
  if (name.starts_with("kafka-") || name.starts_with("kernel-")) {
    // Its settings would be read from KAFKA_* or KERNEL_* variables, the runtime's own.
    problems.push_back(
        fmt::format("name \"{}\" starts with {}: a kernel's settings are read from <NAME>_<SETTING>, and KAFKA_* and "
                    "KERNEL_* belong to the runtime; choose another name (e.g. {})",
                    name, name.substr(0, name.find('-') + 1), name.substr(name.find('-') + 1)));
    return problems;
  }
  if (contains(generator_commands, name)) {
    problems.push_back(fmt::format(
        "name \"{}\" is a new-kernel command (upgrade, check, diff, add, remove): choose another name (e.g. {}-kernel)",
        name, name));
  } else if (contains(cpp_keywords, identifier)) {
    problems.push_back(fmt::format("name \"{}\" becomes the C++ keyword `{}`: choose another name (e.g. {}-kernel)",
                                   name, identifier, name));
  } else if (contains(cmake_targets, identifier)) {
    problems.push_back(fmt::format(
        "name \"{}\" is a target CMake or CTest defines for itself: choose another name (e.g. {}-kernel)", name, name));
  } else if (contains(runtime_names, identifier)) {
    problems.push_back(
        fmt::format("name \"{}\" is reserved for the runtime (namespace kernel, package kernel_runtime): "
                    "choose another name (e.g. my-{})",
                    name, name));
  }
  return problems;
}

std::vector<std::string> check_topic(std::string_view option, std::string_view topic) {
  return check_kafka_name(fmt::format("{} topic", option), topic);
}

std::vector<std::string> check_group(std::string_view group) { return check_kafka_name("--group", group); }

std::vector<std::string> check_description(std::string_view description) {
  std::vector<std::string> problems;
  if (!kernel::jsonl::is_valid_utf8(description)) {
    problems.push_back("--description is not valid UTF-8");
    return problems;
  }
  const auto control = std::find_if(description.begin(), description.end(),
                                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
  if (control != description.end()) {
    problems.push_back(
        fmt::format("--description contains {}: use one line of text", kernel::character_name(*control)));
  }
  if (description.size() > max_description_length) {
    problems.push_back(
        fmt::format("--description is {} bytes long: at most {} (one sentence; "
                    "say more in README.md)",
                    description.size(), max_description_length));
  }
  return problems;
}

namespace {

constexpr std::array setting_types{"string", "int", "double", "bool", "duration", "size", "list", "secret"};

std::optional<kernel::SettingType> setting_type(std::string_view text) {
  using kernel::SettingType;
  static const std::array<std::pair<std::string_view, SettingType>, 8> types{{{"string", SettingType::string},
                                                                              {"int", SettingType::integer},
                                                                              {"double", SettingType::number},
                                                                              {"bool", SettingType::boolean},
                                                                              {"duration", SettingType::duration},
                                                                              {"size", SettingType::size},
                                                                              {"list", SettingType::list},
                                                                              {"secret", SettingType::string}}};
  for (const auto& [name, type] : types) {
    if (name == text) return type;
  }
  return std::nullopt;
}

}  // namespace

std::optional<kernel::KernelSetting> parse_setting(std::string_view spec, std::string& problem) {
  const auto usage = "expected NAME=TYPE[:DEFAULT[:DESCRIPTION]], e.g. 'BATCH_SIZE=int:100:rows per insert'";
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos) {
    problem = fmt::format("--setting '{}': {}", spec, usage);
    return std::nullopt;
  }
  kernel::KernelSetting setting;
  setting.name = std::string(spec.substr(0, eq));
  const auto rest = spec.substr(eq + 1);
  const auto colon = rest.find(':');
  const auto type = rest.substr(0, colon);
  if (colon != std::string_view::npos) {
    const auto after = rest.substr(colon + 1);
    const auto second = after.find(':');
    const auto fallback = after.substr(0, second);
    if (!fallback.empty()) setting.default_value = std::string(fallback);
    if (second != std::string_view::npos) setting.description = std::string(after.substr(second + 1));
  }
  if (type.starts_with("enum(") && type.ends_with(")")) {
    setting.type = kernel::SettingType::enumeration;
    const auto inner = type.substr(5, type.size() - 6);
    std::size_t start = 0;
    while (start <= inner.size()) {
      const auto bar = std::min(inner.find('|', start), inner.size());
      setting.choices.emplace_back(inner.substr(start, bar - start));
      start = bar + 1;
    }
    if (std::any_of(setting.choices.begin(), setting.choices.end(), [](const std::string& c) { return c.empty(); })) {
      problem = fmt::format("--setting '{}': enum({}) has an empty choice; expected enum(a|b|c)", spec, inner);
      return std::nullopt;
    }
  } else if (const auto known = setting_type(type)) {
    setting.type = *known;
    setting.secret = type == "secret";
  } else {
    problem = fmt::format("--setting '{}': unknown type \"{}\"; expected {} or enum(a|b|c)", spec, type,
                          fmt::join(setting_types, ", "));
    return std::nullopt;
  }
  if (setting.secret && setting.default_value) {
    problem = fmt::format(
        "--setting {}: a secret has no default (it would be written into the kernel's code and "
        "files); give it as {}=secret::DESCRIPTION",
        setting.name, setting.name);
    return std::nullopt;
  }
  if (auto problems = check_description(setting.description); !problems.empty()) {
    problem = fmt::format("--setting {}: the description {}", setting.name,
                          problems.front().substr(std::string_view("--description ").size()));
    return std::nullopt;
  }
  // Checked as the runtime checks a kernel's declarations (the name here is any valid one).
  const kernel::KernelDefaults alone{"k", {}, std::nullopt, {setting}, {}};
  if (auto problems = kernel::declaration_problems(alone); !problems.empty()) {
    problem = fmt::format("--setting '{}': {}", spec, problems.front());
    return std::nullopt;
  }
  return setting;
}

std::optional<kernel::KernelOutput> parse_output(std::string_view spec, std::string& problem) {
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos) {
    problem = fmt::format("--output '{}': expected NAME=TOPIC, e.g. 'international=orders.intl'", spec);
    return std::nullopt;
  }
  kernel::KernelOutput output{std::string(spec.substr(0, eq)), std::string(spec.substr(eq + 1))};
  kernel::KernelDefaults alone{"k", {}, std::nullopt, {}, {output}};
  if (auto problems = kernel::declaration_problems(alone); !problems.empty()) {
    problem = fmt::format("--output '{}': {}", spec, problems.front());
    return std::nullopt;
  }
  if (auto problems = check_topic("--output", output.topic); !problems.empty()) {
    problem = problems.front();
    return std::nullopt;
  }
  return output;
}

std::vector<kernel::KernelSetting> settings_of(const Answers& answers) {
  std::vector<kernel::KernelSetting> settings;
  for (const auto& spec : answers.settings.value_or(std::vector<std::string>{})) {
    std::string problem;
    if (auto setting = parse_setting(spec, problem)) settings.push_back(std::move(*setting));
  }
  return settings;
}

std::vector<kernel::KernelOutput> outputs_of(const Answers& answers) {
  std::vector<kernel::KernelOutput> outputs;
  for (const auto& spec : answers.outputs.value_or(std::vector<std::string>{})) {
    std::string problem;
    if (auto output = parse_output(spec, problem)) outputs.push_back(std::move(*output));
  }
  return outputs;
}

std::string identifier_of(std::string_view name) {
  std::string identifier(name);
  std::replace(identifier.begin(), identifier.end(), '-', '_');
  return identifier;
}

namespace {

void add(std::vector<std::string>& problems, std::vector<std::string> more) {
  problems.insert(problems.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return std::string(text.substr(first, text.find_last_not_of(" \t") - first + 1));
}

/// "a, b,c" as {"a", "b", "c"}: how a list is typed at a prompt.
std::vector<std::string> comma_separated(std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    auto item = trimmed(text.substr(start, comma - start));
    if (!item.empty()) items.push_back(std::move(item));
    start = comma + 1;
  }
  return items;
}

/// An optional answer: empty text means none, so that its default applies (`--set
/// output_topic=` removes a consumer's output topic).
std::optional<std::string> none_if_empty(std::string_view text) {
  if (text.empty()) return std::nullopt;
  return std::string(text);
}

bool is_input(const Answers& answers, const std::string& topic) {
  const auto& inputs = answers.input_topics;
  return std::find(inputs.begin(), inputs.end(), topic) != inputs.end();
}

bool is_step(const Answers& answers) { return !answers.pipeline.empty() && !answers.step.empty(); }

/// The pattern given, else the one the defaults choose (a pipeline step has an output).
std::string pattern_of(const Answers& answers) {
  if (!answers.pattern.empty()) return answers.pattern;
  return answers.output_topic || is_step(answers) ? "transform" : "consumer";
}

const PatternInfo* find_pattern(const Patterns& patterns, std::string_view name) {
  const auto found =
      std::find_if(patterns.begin(), patterns.end(), [&](const PatternInfo& p) { return p.name == name; });
  return found == patterns.end() ? nullptr : &*found;
}

bool needs_output(const Answers& answers, const Patterns& patterns) {
  const auto* pattern = find_pattern(patterns, pattern_of(answers));
  return pattern != nullptr && pattern->needs_output_topic;
}

bool always(const Answers&, const Patterns&) { return true; }

constexpr std::array<std::string_view, 3> message_formats{"json", "protobuf", "avro"};

/// --pipeline or --step was given (both are needed: check_step_names says so).
bool names_a_step(const Answers& a, const Patterns&) { return !a.pipeline.empty() || !a.step.empty(); }

std::vector<std::string> check_step_names(const Answers& a) {
  std::vector<std::string> problems;
  if (a.pipeline.empty() != a.step.empty()) {
    problems.push_back(a.pipeline.empty()
                           ? "--step without --pipeline: a pipeline step needs both; give --pipeline PIPELINE"
                           : "--pipeline without --step: a pipeline step needs both; give --step STEP");
  }
  if (!a.pipeline.empty()) add(problems, check_kafka_name("--pipeline", a.pipeline));
  if (!a.step.empty()) add(problems, check_kafka_name("--step", a.step));
  return problems;
}

/// A pipeline step's topics and group, by the runtime's convention, where no flag gave them.
void fill_step_defaults(Answers& a, const Patterns& patterns) {
  if (!is_step(a) || !check_step_names(a).empty()) return;
  const auto stem = step_topic_stem(a);
  if (a.input_topics.empty()) a.input_topics = {stem + ".input"};
  if (!a.output_topic && (a.pattern.empty() || needs_output(a, patterns))) a.output_topic = stem + ".output";
  if (!a.dlq_topic) a.dlq_topic = stem + ".dead-letter";
  if (!a.consumer_group) a.consumer_group = a.pipeline + "-consumer-group";
}

std::string describe(const Answers& answers) {
  const auto pattern = pattern_of(answers);
  const auto article = std::string_view("aeiou").find(pattern.front()) != std::string_view::npos ? "An" : "A";
  return answers.output_topic ? fmt::format("{} {} kernel from {} to {}.", article, pattern,
                                            joined(answers.input_topics), *answers.output_topic)
                              : fmt::format("{} {} kernel on {}.", article, pattern, joined(answers.input_topics));
}

// The table. Order matters: a default or check uses only the questions above it (the
// pattern's default looks at an output topic only when a flag gave one).
const std::vector<Question> question_table{
    {.key = "name",
     .flag = "NAME",
     .prompt = "Kernel name (lowercase letters, digits, dashes)",
     .required_without_terminal = true,
     .applies = always,
     .answered = [](const Answers& a) { return !a.name.empty(); },
     .default_value = [](const Answers&, const Patterns&) { return std::string(); },
     .store = [](Answers& a, std::string_view text) { a.name = text; },
     .check = [](const Answers& a, const Patterns&) { return check_name(a.name); }},
    // A pipeline step: given by flags only, never asked; its topics and group follow the
    // runtime's convention unless given.
    {.key = "pipeline",
     .flag = "--pipeline PIPELINE",
     .prompt = "Pipeline this kernel is a step of",
     .applies = names_a_step,
     .answered = [](const Answers& a) { return names_a_step(a, {}); },
     .default_value = [](const Answers& a, const Patterns&) { return a.name; },
     .store = [](Answers& a, std::string_view text) { a.pipeline = text; },
     .check = [](const Answers& a, const Patterns&) { return check_step_names(a); }},
    {.key = "step",
     .flag = "--step STEP",
     .prompt = "Step name in the pipeline",
     .applies = names_a_step,
     .answered = [](const Answers& a) { return names_a_step(a, {}); },
     .default_value = [](const Answers& a, const Patterns&) { return a.name; },
     .store = [](Answers& a, std::string_view text) { a.step = text; },
     .check = [](const Answers&, const Patterns&) { return std::vector<std::string>{}; }},
    {.key = "pattern",
     .flag = "--pattern PATTERN",
     .prompt = "Pattern",
     .applies = always,
     .answered = [](const Answers& a) { return !a.pattern.empty(); },
     .default_value = [](const Answers& a, const Patterns&) { return pattern_of(a); },
     .choices =
         [](const Patterns& patterns) {
           std::vector<std::string> names;
           for (const auto& pattern : patterns) names.push_back(pattern.name);
           return names;
         },
     .store = [](Answers& a, std::string_view text) { a.pattern = text; },
     .check =
         [](const Answers& a, const Patterns& patterns) {
           std::vector<std::string> problems;
           if (find_pattern(patterns, pattern_of(a)) == nullptr) {
             std::vector<std::string> names;
             for (const auto& pattern : patterns) names.push_back(pattern.name);
             problems.push_back(fmt::format("--pattern {}: unknown; choose one of {}", pattern_of(a), joined(names)));
           }
           return problems;
         }},
    {.key = "input_topics",
     .flag = "--topic TOPIC",
     .prompt = "Input topic(s), comma-separated",
     .required_without_terminal = true,
     .applies = always,
     .answered = [](const Answers& a) { return !a.input_topics.empty() || is_step(a); },
     .default_value = [](const Answers& a, const Patterns&) { return a.name + ".input"; },
     .store = [](Answers& a, std::string_view text) { a.input_topics = comma_separated(text); },
     .check =
         [](const Answers& a, const Patterns&) {
           std::vector<std::string> problems;
           if (a.input_topics.empty()) problems.push_back("no input topic: give at least one --topic TOPIC");
           for (auto topic = a.input_topics.begin(); topic != a.input_topics.end(); ++topic) {
             add(problems, check_topic("--topic", *topic));
             if (std::find(a.input_topics.begin(), topic, *topic) != topic) {
               problems.push_back(fmt::format("--topic {} is given twice: give each input topic once", *topic));
             }
           }
           return problems;
         }},
    {.key = "output_topic",
     .flag = "--output-topic TOPIC",
     .prompt = "Output topic",
     .required_without_terminal = true,
     .applies = needs_output,
     .answered = [](const Answers& a) { return a.output_topic.has_value() || is_step(a); },
     .default_value = [](const Answers& a, const Patterns&) { return a.name + ".output"; },
     .store = [](Answers& a, std::string_view text) { a.output_topic = none_if_empty(text); },
     .check =
         [](const Answers& a, const Patterns& patterns) {
           std::vector<std::string> problems;
           if (!a.output_topic) {
             if (needs_output(a, patterns)) {
               problems.push_back(
                   fmt::format("--pattern {} produces messages: give --output-topic TOPIC", pattern_of(a)));
             }
             return problems;
           }
           add(problems, check_topic("--output-topic", *a.output_topic));
           if (is_input(a, *a.output_topic)) {
             problems.push_back(
                 fmt::format("--output-topic {} is also an input topic: the kernel would consume "
                             "its own output; choose another topic",
                             *a.output_topic));
           }
           return problems;
         }},
    {.key = "description",
     .flag = "--description TEXT",
     .prompt = "Description (one sentence)",
     .applies = always,
     .answered = [](const Answers& a) { return !a.description.empty(); },
     .default_value = [](const Answers& a, const Patterns&) { return describe(a); },
     .store = [](Answers& a, std::string_view text) { a.description = text; },
     .check = [](const Answers& a, const Patterns&) { return check_description(a.description); }},
    {.key = "dlq_topic",
     .flag = "--dlq-topic TOPIC",
     .prompt = "Dead-letter topic",
     .applies = always,
     .answered = [](const Answers& a) { return a.dlq_topic.has_value(); },
     .default_value = [](const Answers& a, const Patterns&) { return a.name + ".dlq"; },
     .store = [](Answers& a, std::string_view text) { a.dlq_topic = none_if_empty(text); },
     .check =
         [](const Answers& a, const Patterns&) {
           std::vector<std::string> problems;
           if (!a.dlq_topic) return problems;
           add(problems, check_topic("--dlq-topic", *a.dlq_topic));
           if (is_input(a, *a.dlq_topic) || a.dlq_topic == a.output_topic) {
             problems.push_back(
                 fmt::format("--dlq-topic {} is also an input or output topic: dead letters need a topic of their own",
                             *a.dlq_topic));
           }
           return problems;
         }},
    {.key = "consumer_group",
     .flag = "--group GROUP",
     .prompt = "Consumer group",
     .applies = always,
     .answered = [](const Answers& a) { return a.consumer_group.has_value(); },
     .default_value = [](const Answers& a, const Patterns&) { return a.name; },
     .store = [](Answers& a, std::string_view text) { a.consumer_group = none_if_empty(text); },
     .check =
         [](const Answers& a, const Patterns&) {
           return a.consumer_group ? check_group(*a.consumer_group) : std::vector<std::string>{};
         }},
    {.key = "settings",
     .flag = "--setting NAME=TYPE[:DEFAULT[:DESCRIPTION]]",
     .prompt = "Settings of the kernel, NAME=TYPE[:DEFAULT[:DESCRIPTION]] separated by ';' (none: empty)",
     .applies = always,
     .answered = [](const Answers& a) { return a.settings.has_value(); },
     .default_value = [](const Answers&, const Patterns&) { return std::string(); },
     .store =
         [](Answers& a, std::string_view text) {
           std::vector<std::string> specs;
           std::size_t start = 0;
           while (start <= text.size()) {
             const auto semicolon = std::min(text.find(';', start), text.size());
             if (auto spec = trimmed(text.substr(start, semicolon - start)); !spec.empty()) specs.push_back(spec);
             start = semicolon + 1;
           }
           a.settings = std::move(specs);
         },
     .check =
         [](const Answers& a, const Patterns&) {
           std::vector<std::string> problems;
           std::vector<kernel::KernelSetting> settings;
           for (const auto& spec : a.settings.value_or(std::vector<std::string>{})) {
             std::string problem;
             if (auto setting = parse_setting(spec, problem)) {
               settings.push_back(std::move(*setting));
             } else {
               problems.push_back(problem);
             }
           }
           for (auto it = settings.begin(); it != settings.end(); ++it) {
             const auto same = [&](const kernel::KernelSetting& other) { return other.name == it->name; };
             if (std::find_if(settings.begin(), it, same) != it) {
               problems.push_back(fmt::format("--setting {} is given twice: declare each setting once", it->name));
             }
           }
           return problems;
         }},
    {.key = "outputs",
     .flag = "--output NAME=TOPIC",
     .prompt = "Named outputs, NAME=TOPIC comma-separated (none: empty)",
     .applies = always,
     .answered = [](const Answers& a) { return a.outputs.has_value(); },
     .default_value = [](const Answers&, const Patterns&) { return std::string(); },
     .store = [](Answers& a, std::string_view text) { a.outputs = comma_separated(text); },
     .check =
         [](const Answers& a, const Patterns&) {
           std::vector<std::string> problems;
           std::vector<kernel::KernelOutput> outputs;
           for (const auto& spec : a.outputs.value_or(std::vector<std::string>{})) {
             std::string problem;
             if (auto output = parse_output(spec, problem)) {
               outputs.push_back(std::move(*output));
             } else {
               problems.push_back(problem);
             }
           }
           for (auto it = outputs.begin(); it != outputs.end(); ++it) {
             const auto variable = kernel::output_variable(it->name);
             const auto same = [&](const kernel::KernelOutput& other) {
               return kernel::output_variable(other.name) == variable;
             };
             if (std::find_if(outputs.begin(), it, same) != it) {
               problems.push_back(fmt::format("--output {} is given twice (both set {}): declare each output once",
                                              it->name, variable));
             }
             if (is_input(a, it->topic) || (a.dlq_topic && *a.dlq_topic == it->topic)) {
               problems.push_back(
                   fmt::format("--output {}={} is also an input or dead-letter topic: choose another "
                               "topic",
                               it->name, it->topic));
             }
           }
           return problems;
         }},
    // Added with the message formats: absent from older manifests and json by default, so an
    // upgrade asks nothing. The schema itself is read once, at generation (schema_file.hpp).
    // Given by flag only, never asked (as a pipeline step): a prompt would add a question to
    // every interactive generation for what most kernels leave at json.
    {.key = "format",
     .flag = "--format FORMAT",
     .prompt = "Message format",
     .applies = [](const Answers& a, const Patterns&) { return !a.format.empty(); },
     .answered = [](const Answers& a) { return !a.format.empty(); },
     .default_value = [](const Answers&, const Patterns&) { return std::string("json"); },
     .choices =
         [](const Patterns&) { return std::vector<std::string>(message_formats.begin(), message_formats.end()); },
     .store = [](Answers& a, std::string_view text) { a.format = text; },
     .check =
         [](const Answers& a, const Patterns&) {
           std::vector<std::string> problems;
           const auto format = format_of(a);
           if (std::find(message_formats.begin(), message_formats.end(), format) == message_formats.end()) {
             problems.push_back(fmt::format("--format {}: unknown; choose one of json, protobuf, avro", format));
             return problems;
           }
           if (!has_schema(a)) return problems;
           if (a.schema.empty()) {
             problems.push_back(fmt::format("--format {} reads values with a schema: give --schema FILE (a {})", format,
                                            format == "protobuf" ? ".proto" : ".avsc"));
           }
           const auto pattern = pattern_of(a);
           if (pattern != "consumer" && pattern != "transform") {
             problems.push_back(fmt::format(
                 "--format {} works with --pattern consumer or transform; --pattern {} reads JSON: leave --format out",
                 format, pattern));
           }
           return problems;
         }},
    {.key = "schema",
     .flag = "--schema FILE",
     .prompt = "Schema file (.proto or .avsc)",
     .applies = [](const Answers& a, const Patterns&) { return has_schema(a); },
     .answered = [](const Answers& a) { return !a.schema.empty(); },
     .default_value = [](const Answers&, const Patterns&) { return std::string(); },
     .store = [](Answers& a, std::string_view text) { a.schema = text; },
     .check =
         [](const Answers& a, const Patterns&) {
           std::vector<std::string> problems;
           if (a.schema.empty()) return problems;  // required by --format: its check says so
           if (!has_schema(a)) {
             problems.push_back(fmt::format(
                 "--schema {} without a format that reads it: add --format protobuf (a .proto) or --format avro (an "
                 ".avsc)",
                 a.schema));
           }
           return problems;
         }},
    {.key = "message",
     .flag = "--message NAME",
     .prompt = "Message type the handler reads (empty: the schema's first)",
     .applies = [](const Answers& a, const Patterns&) { return has_schema(a); },
     .answered = [](const Answers& a) { return !a.message.empty(); },
     .default_value = [](const Answers&, const Patterns&) { return std::string(); },
     .store = [](Answers& a, std::string_view text) { a.message = text; },
     .check =
         [](const Answers& a, const Patterns&) {
           std::vector<std::string> problems;
           if (a.message.empty()) return problems;  // the schema's first message
           if (!has_schema(a)) {
             problems.push_back(
                 fmt::format("--message {} without a schema: it names a message of --schema; add --format and --schema",
                             a.message));
           } else if (!is_dotted_name(a.message)) {
             problems.push_back(fmt::format(
                 "--message {}: not a message name: give a name the schema declares (e.g. Order or shop.Order)",
                 a.message));
           }
           return problems;
         }},
};

}  // namespace

const std::vector<Question>& questions() { return question_table; }

const Question* find_question(std::string_view key) {
  const auto found = std::find_if(question_table.begin(), question_table.end(),
                                  [&](const Question& question) { return question.key == key; });
  return found == question_table.end() ? nullptr : &*found;
}

std::vector<const Question*> missing_questions(const Answers& answers, const Patterns& patterns) {
  std::vector<const Question*> missing;
  for (const auto& question : question_table) {
    if (!question.answered(answers) && question.applies(answers, patterns)) missing.push_back(&question);
  }
  return missing;
}

std::string format_of(const Answers& answers) { return answers.format.empty() ? "json" : answers.format; }

bool has_schema(const Answers& answers) {
  const auto format = format_of(answers);
  return format == "protobuf" || format == "avro";
}

std::string step_topic_stem(const Answers& answers) {
  return is_step(answers) ? "pipeline." + answers.pipeline + ".step." + answers.step : std::string();
}

Answers complete_and_check(Answers answers, const Patterns& patterns) {
  fill_step_defaults(answers, patterns);
  std::vector<std::string> problems;
  for (const auto& question : question_table) {
    if (question.answered(answers) || question.required_without_terminal) {
      add(problems, question.check(answers, patterns));  // an absent required answer is a problem too
    } else if (question.applies(answers, patterns)) {
      // Defaults are not checked: a problem is reported against what the user typed.
      question.store(answers, question.default_value(answers, patterns));
    }
  }
  if (!problems.empty()) {
    std::string text;
    for (const auto& problem : problems) text += (text.empty() ? "" : "\n") + problem;
    throw UsageError(text);
  }
  if (answers.directory.empty()) answers.directory = answers.name;
  return answers;
}

}  // namespace new_kernel
