#pragma once
/// What the user asked for, and the rules it must follow (docs/generator.md, "Rules and exit codes").
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace new_kernel {

/// One kernel pattern of the template set (handler and test differ per pattern).
struct PatternInfo {
  std::string name;
  std::string summary;
  bool needs_output_topic = false;
};

struct Answers {
  std::string name;
  std::vector<std::string> input_topics;
  std::optional<std::string> output_topic;
  std::optional<std::string> dlq_topic;       ///< default: <name>.dlq
  std::optional<std::string> consumer_group;  ///< default: the name
  std::string pattern;                        ///< empty: transform with an output, else consumer
  std::string description;                    ///< empty: a sentence made from the pattern
  std::filesystem::path directory;            ///< empty: ./<name>
};

/// Every problem with a kernel name, one line each; empty when the name is valid.
std::vector<std::string> check_name(std::string_view name);
/// Every problem with a topic name given as `option` (e.g. "--topic").
std::vector<std::string> check_topic(std::string_view option, std::string_view topic);
/// Every problem with a consumer group (topic rules: it lands in the same places).
std::vector<std::string> check_group(std::string_view group);
/// Every problem with a free-text description.
std::vector<std::string> check_description(std::string_view description);

/// Fills the defaults (pattern, dead-letter topic, group, description, directory), then
/// checks everything. Throws UsageError listing every problem, one per line.
Answers complete_and_check(Answers answers, const std::vector<PatternInfo>& patterns);

/// The kernel name with dashes turned into underscores: C++ namespace and CMake target.
std::string identifier_of(std::string_view name);

}  // namespace new_kernel
