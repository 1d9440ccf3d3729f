#pragma once
/// What the user asked for, and the rules it must follow (docs/generator.md, "Rules and exit codes").
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <kernel/kernel_settings.hpp>

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
  std::string pipeline;                       ///< with step: a pipeline step (docs/pipelines.md)
  std::string step;                           ///< empty with pipeline: not a pipeline step
  std::filesystem::path directory;            ///< empty: ./<name>
  /// The kernel's own settings, as `--setting NAME=TYPE[:DEFAULT[:DESCRIPTION]]` gives them;
  /// nullopt until answered (none by default).
  std::optional<std::vector<std::string>> settings;
  /// Named outputs, as `--output NAME=TOPIC` gives them; nullopt until answered (none by default).
  std::optional<std::vector<std::string>> outputs;
  /// How message values are encoded: json (empty until answered: the default), protobuf or
  /// avro (docs/generator.md, "Message formats").
  std::string format;
  /// With protobuf or avro: the schema file, as --schema gives it; once generated, where it is
  /// in the kernel (schemas/<file name>).
  std::string schema;
  /// With protobuf or avro: the full name of the message type the handler uses ("shop.Order");
  /// empty until the schema is read (the first message of a .proto, the record of an .avsc).
  std::string message;
};

using Patterns = std::vector<PatternInfo>;

/// One question a template asks, declared once in questions(): it drives the command line's
/// checks and defaults, the prompts of interactive generation, and the questions an upgrade
/// asks when a newer template has one the kernel's recorded answers lack. Each function sees
/// the answers given so far: a question's default and checks may use the earlier questions'.
struct Question {
  std::string_view key;     ///< its name in the manifest's answers ("input_topics")
  std::string_view flag;    ///< how the command line gives it ("--topic TOPIC")
  std::string_view prompt;  ///< what a terminal asks ("Input topic(s), comma-separated")
  /// Without a terminal, an unanswered question takes its default, except these, which the
  /// command line has always required (name, input topics, the output topic a pattern needs).
  /// A question added later must have a default instead: an upgrade never stops for it.
  bool required_without_terminal = false;
  /// Whether it is asked at all (the output topic: only when the pattern needs one).
  bool (*applies)(const Answers&, const Patterns&) = nullptr;
  /// Whether the answers already hold a value for it.
  bool (*answered)(const Answers&) = nullptr;
  /// Its default, from the earlier answers; empty only for the name.
  std::string (*default_value)(const Answers&, const Patterns&) = nullptr;
  /// The accepted values, shown with the prompt; nullptr when free text.
  std::vector<std::string> (*choices)(const Patterns&) = nullptr;
  /// Stores a typed answer (a list is comma-separated); empty text for an optional answer
  /// stores none, so that its default applies.
  void (*store)(Answers&, std::string_view text) = nullptr;
  /// Every problem with its stored value, one line each: the same lines whether the value
  /// came from a flag or a prompt.
  std::vector<std::string> (*check)(const Answers&, const Patterns&) = nullptr;
};

/// Every question, in the order they are asked (a question's default may use earlier answers).
const std::vector<Question>& questions();
/// The question with this manifest key, or nullptr.
const Question* find_question(std::string_view key);
/// The questions that apply and have no answer yet, in order: what interactive generation
/// asks, and what an upgrade asks (or fills with defaults) when the template gained one.
std::vector<const Question*> missing_questions(const Answers& answers, const Patterns& patterns);

/// Every problem with a kernel name, one line each; empty when the name is valid.
std::vector<std::string> check_name(std::string_view name);
/// Every problem with a topic name given as `option` (e.g. "--topic").
std::vector<std::string> check_topic(std::string_view option, std::string_view topic);
/// Every problem with a consumer group (topic rules: it lands in the same places).
std::vector<std::string> check_group(std::string_view group);
/// Every problem with a free-text description.
std::vector<std::string> check_description(std::string_view description);

/// Checks every answer given and fills the defaults of the others (pattern, description,
/// dead-letter topic, group, directory), question by question. Throws UsageError listing
/// every problem, one per line.
Answers complete_and_check(Answers answers, const Patterns& patterns);

/// `pipeline.<pipeline>.step.<step>`: the stem of a pipeline step's topics (the runtime's
/// default KERNEL_TOPIC_PATTERN without its kind); empty when the answers name no step.
std::string step_topic_stem(const Answers& answers);
/// One `--setting NAME=TYPE[:DEFAULT[:DESCRIPTION]]` as the kernel declares it (TYPE one of
/// string, int, double, bool, duration, size, list, enum(a|b|c), secret; an empty or absent
/// DEFAULT makes it required); nullopt with `problem` set when the text is not such a spec.
std::optional<kernel::KernelSetting> parse_setting(std::string_view spec, std::string& problem);
/// One `--output NAME=TOPIC`; nullopt with `problem` set when the text is not one.
std::optional<kernel::KernelOutput> parse_output(std::string_view spec, std::string& problem);
/// The settings and outputs the (checked) answers declare, in the order given.
std::vector<kernel::KernelSetting> settings_of(const Answers& answers);
std::vector<kernel::KernelOutput> outputs_of(const Answers& answers);

/// The format the answers ask for: "json" unless --format says otherwise.
std::string format_of(const Answers& answers);
/// Whether the format reads values with a schema (protobuf, avro).
bool has_schema(const Answers& answers);

/// The kernel name with dashes turned into underscores: C++ namespace and CMake target.
std::string identifier_of(std::string_view name);

}  // namespace new_kernel
