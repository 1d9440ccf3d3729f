#include "answers.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "errors.hpp"

namespace new_kernel {

namespace {

constexpr std::size_t max_name_length = 63;  // a DNS label: the name is also a Kubernetes name
constexpr std::size_t max_topic_length = 249;
constexpr std::size_t max_description_length = 200;

// C++20 keywords and alternative tokens: the name with dashes turned into underscores
// becomes a namespace.
constexpr std::array cpp_keywords{
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
    "case", "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept",
    "const", "consteval", "constexpr", "constinit", "const_cast", "continue", "co_await",
    "co_return", "co_yield", "decltype", "default", "delete", "do", "double", "dynamic_cast",
    "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto",
    "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
    "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register",
    "reinterpret_cast", "requires", "return", "short", "signed", "sizeof", "static",
    "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local",
    "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using",
    "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq"};

// Targets CMake and CTest define for themselves.
constexpr std::array cmake_targets{"all", "install", "install_strip", "install_local", "test",
                                   "clean", "help", "package", "package_source", "edit_cache",
                                   "rebuild_cache", "list_install_components"};

// new-kernel's own commands: `new-kernel upgrade` must never be read as a kernel's name.
constexpr std::array generator_commands{"upgrade", "check", "diff"};

// Names the runtime uses: its namespace and package (`kernel::`, `kernel_runtime`).
constexpr std::array runtime_names{"kernel", "runtime"};

template <std::size_t N>
bool contains(const std::array<const char*, N>& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

std::string printable(char c) {
  if (c == ' ') return "a space";
  if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
    return fmt::format("control character 0x{:02x}", static_cast<unsigned char>(c));
  }
  if (static_cast<unsigned char>(c) >= 0x80) return "a non-ASCII character";
  return fmt::format("'{}'", c);
}

bool is_topic_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t continuation = lead < 0x80           ? 0
                                     : (lead >> 5) == 0x6  ? 1
                                     : (lead >> 4) == 0xe  ? 2
                                     : (lead >> 3) == 0x1e ? 3
                                                           : 4;
    if (continuation == 4 || i + continuation >= text.size() + (continuation == 0 ? 1 : 0)) {
      return false;
    }
    for (std::size_t k = 1; k <= continuation; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return false;
    }
    i += continuation + 1;
  }
  return true;
}

std::vector<std::string> check_kafka_name(std::string_view what, std::string_view value) {
  std::vector<std::string> problems;
  const auto accepted = "use letters, digits, '.', '_' and '-', 1 to 249 characters";
  if (value.empty()) {
    problems.push_back(fmt::format("{} is empty: {}", what, accepted));
    return problems;
  }
  if (value == "." || value == "..") {
    problems.push_back(fmt::format("{} \"{}\" is not allowed by Kafka: {}", what, value, accepted));
    return problems;
  }
  if (value.size() > max_topic_length) {
    problems.push_back(fmt::format("{} is {} characters long: at most {}", what, value.size(),
                                   max_topic_length));
  }
  const auto bad = std::find_if_not(value.begin(), value.end(), is_topic_char);
  if (bad != value.end()) {
    problems.push_back(fmt::format("{} \"{}\" contains {}: {}", what, value, printable(*bad), accepted));
  }
  return problems;
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
  const auto accepted = fmt::format(
      "use lowercase letters, digits and single dashes, starting with a letter (e.g. {})", suggest_name(name));
  if (name.empty()) {
    problems.push_back(fmt::format("the kernel name is empty: {}", accepted));
    return problems;
  }
  if (name.size() > max_name_length) {
    problems.push_back(fmt::format("name \"{}\" is {} characters long: at most {}", name,
                                   name.size(), max_name_length));
  }
  auto allowed = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
  if (allowed(name.front()) && !(name.front() >= 'a' && name.front() <= 'z')) {
    problems.push_back(fmt::format("name \"{}\" starts with {}: {}", name, printable(name.front()), accepted));
  }
  std::string bad_characters;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (allowed(name[i]) || name.substr(0, i).find(name[i]) != std::string_view::npos) continue;
    bad_characters += (bad_characters.empty() ? "" : ", ") + printable(name[i]);
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
  if (contains(generator_commands, name)) {
    problems.push_back(fmt::format(
        "name \"{}\" is a new-kernel command (upgrade, check, diff): choose another name (e.g. {}-kernel)",
        name, name));
  } else if (contains(cpp_keywords, identifier)) {
    problems.push_back(fmt::format(
        "name \"{}\" becomes the C++ keyword `{}`: choose another name (e.g. {}-kernel)", name,
        identifier, name));
  } else if (contains(cmake_targets, identifier)) {
    problems.push_back(fmt::format(
        "name \"{}\" is a target CMake or CTest defines for itself: choose another name (e.g. {}-kernel)",
        name, name));
  } else if (contains(runtime_names, identifier)) {
    problems.push_back(fmt::format(
        "name \"{}\" is reserved for the runtime (namespace kernel, package kernel_runtime): "
        "choose another name (e.g. my-{})", name, name));
  }
  return problems;
}

std::vector<std::string> check_topic(std::string_view option, std::string_view topic) {
  return check_kafka_name(fmt::format("{} {}", option, topic.empty() ? "\"\"" : "topic"), topic);
}

std::vector<std::string> check_group(std::string_view group) {
  return check_kafka_name("--group", group);
}

std::vector<std::string> check_description(std::string_view description) {
  std::vector<std::string> problems;
  if (!is_valid_utf8(description)) {
    problems.push_back("--description is not valid UTF-8");
    return problems;
  }
  const auto control = std::find_if(description.begin(), description.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (control != description.end()) {
    problems.push_back(fmt::format("--description contains {}: use one line of text",
                                   printable(*control)));
  }
  if (description.size() > max_description_length) {
    problems.push_back(fmt::format("--description is {} bytes long: at most {} (one sentence; "
                                   "say more in README.md)",
                                   description.size(), max_description_length));
  }
  return problems;
}

std::string identifier_of(std::string_view name) {
  std::string identifier(name);
  std::replace(identifier.begin(), identifier.end(), '-', '_');
  return identifier;
}

Answers complete_and_check(Answers answers, const std::vector<PatternInfo>& patterns) {
  std::vector<std::string> problems;
  auto add = [&problems](std::vector<std::string> more) {
    problems.insert(problems.end(), more.begin(), more.end());
  };

  add(check_name(answers.name));
  if (answers.input_topics.empty()) {
    problems.push_back("no input topic: give at least one --topic TOPIC");
  }
  for (std::size_t i = 0; i < answers.input_topics.size(); ++i) {
    const auto& topic = answers.input_topics[i];
    add(check_topic("--topic", topic));
    if (std::find(answers.input_topics.begin(), answers.input_topics.begin() + static_cast<long>(i),
                  topic) != answers.input_topics.begin() + static_cast<long>(i)) {
      problems.push_back(fmt::format("--topic {} is given twice: give each input topic once", topic));
    }
  }
  auto is_input = [&answers](const std::string& topic) {
    return std::find(answers.input_topics.begin(), answers.input_topics.end(), topic) !=
           answers.input_topics.end();
  };
  if (answers.output_topic) {
    add(check_topic("--output-topic", *answers.output_topic));
    if (is_input(*answers.output_topic)) {
      problems.push_back(fmt::format("--output-topic {} is also an input topic: the kernel would "
                                     "consume its own output; choose another topic",
                                     *answers.output_topic));
    }
  }
  if (answers.dlq_topic) {
    add(check_topic("--dlq-topic", *answers.dlq_topic));
    if (is_input(*answers.dlq_topic) || answers.dlq_topic == answers.output_topic) {
      problems.push_back(fmt::format("--dlq-topic {} is also an input or output topic: dead "
                                     "letters need a topic of their own",
                                     *answers.dlq_topic));
    }
  }
  if (answers.consumer_group) add(check_group(*answers.consumer_group));
  add(check_description(answers.description));

  if (answers.pattern.empty()) answers.pattern = answers.output_topic ? "transform" : "consumer";
  const auto pattern = std::find_if(patterns.begin(), patterns.end(),
                                    [&](const PatternInfo& p) { return p.name == answers.pattern; });
  if (pattern == patterns.end()) {
    std::string names;
    for (const auto& p : patterns) names += (names.empty() ? "" : ", ") + p.name;
    problems.push_back(fmt::format("--pattern {}: unknown; choose one of {}", answers.pattern, names));
  } else if (pattern->needs_output_topic && !answers.output_topic) {
    problems.push_back(fmt::format("--pattern {} produces messages: give --output-topic TOPIC",
                                   answers.pattern));
  }

  if (!problems.empty()) {
    std::string text;
    for (const auto& problem : problems) text += (text.empty() ? "" : "\n") + problem;
    throw UsageError(text);
  }

  if (answers.description.empty()) {
    std::string inputs;
    for (const auto& topic : answers.input_topics) inputs += (inputs.empty() ? "" : ", ") + topic;
    answers.description = answers.output_topic
                              ? fmt::format("A {} kernel from {} to {}.", answers.pattern, inputs, *answers.output_topic)
                              : fmt::format("A {} kernel on {}.", answers.pattern, inputs);
  }
  if (!answers.dlq_topic) answers.dlq_topic = answers.name + ".dlq";
  if (!answers.consumer_group) answers.consumer_group = answers.name;
  if (answers.directory.empty()) answers.directory = answers.name;
  return answers;
}

}  // namespace new_kernel
