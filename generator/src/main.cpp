// new-kernel: generates a kernel repository that builds, passes its tests and runs.
//
//   new-kernel orders-enricher --topic orders --output-topic orders.enriched --pattern enrichment
//
// Exit codes (docs/generator.md): 0 done, 64 bad command line or answer, 65 a template that
// cannot render, 73 target not empty, 74 I/O error, 128 + signal when interrupted.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <kernel/config.hpp>

#include "config/registry.hpp"

#include "answer_commands.hpp"
#include "answers.hpp"
#include "errors.hpp"
#include "git_repository.hpp"
#include "kernel_commands.hpp"
#include "manifest.hpp"
#include "prompt.hpp"
#include "render.hpp"
#include "repository_writer.hpp"
#include "schema_file.hpp"
#include "template_set.hpp"

#ifndef NEW_KERNEL_VERSION
#error "NEW_KERNEL_VERSION is set by generator/CMakeLists.txt"
#endif

namespace {

using namespace new_kernel;
namespace fs = std::filesystem;

constexpr const char* examples = R"(Examples:
  new-kernel audit-log --topic orders
      a consumer: reads orders, logs and counts each message
  new-kernel order-mapper --topic orders --output-topic orders.mapped
      a transform: maps each order to a new document on orders.mapped
  new-kernel order-enricher --topic orders --output-topic orders.enriched --pattern enrichment \
      --description "Adds customer details to orders"
  new-kernel order-sink --topic orders --pattern batch-sink
      a batch sink: writes up to KERNEL_BATCH_SIZE orders of a partition to a store in one call
  new-kernel order-router --topic orders --output-topic orders.routed \
      --setting 'BATCH_SIZE=int:100:rows per insert' --setting 'API_KEY=secret::pricing API key' \
      --output international=orders.intl
      a transform with settings of its own and a second, named output
  new-kernel my-kernel --topic a --topic b --dry-run
      shows what would be written, writes nothing
  new-kernel
      on a terminal: asks every question no flag answered, each with its default
)";

constexpr const char* later =
    R"(Later: new-kernel add setting NAME=TYPE[:DEFAULT[:DESCRIPTION]] and new-kernel add output
NAME=TOPIC (inside the kernel; remove too) declare a setting or output in every file that names it;
new-kernel upgrade [DIR] carries the kernel to newer templates, keeping your edits;
new-kernel check [DIR] (for CI) says whether an upgrade is available; new-kernel diff [DIR]
shows your edits since generation. See new-kernel upgrade --help.
Exit codes: 0 done, 64 bad command line, 65 template error, 73 target not empty, 74 I/O error.)";

struct CommandLine {
  Answers answers;
  bool name_given = false;
  bool dry_run = false;
  bool no_git = false;
  bool list_patterns = false;
  std::string templates_directory;
};

Versions versions() {
  const std::string generator = NEW_KERNEL_VERSION;
  return {generator, generator.substr(0, generator.rfind('.'))};
}

TemplateSet load_templates(const CommandLine& command) {
  return command.templates_directory.empty() ? TemplateSet::built_in()
                                             : TemplateSet::from_directory(command.templates_directory);
}

void print_patterns(const TemplateSet& templates) {
  std::size_t width = 0;
  for (const auto& pattern : templates.manifest().patterns) width = std::max(width, pattern.name.size());
  for (const auto& pattern : templates.manifest().patterns) {
    std::cout << fmt::format("{:<{}}  {}{}\n", pattern.name, width, pattern.summary,
                             pattern.needs_output_topic ? " (needs --output-topic)" : "");
  }
}

/// Without a terminal, names in one line the required answers no flag gave (exit 64). On a
/// terminal, when one of them is missing, asks every question no flag answered, each with
/// its default; end of input stops with nothing written (64).
void complete_missing(CommandLine& command, const TemplateSet& templates) {
  auto& answers = command.answers;
  const auto& patterns = templates.manifest().patterns;
  std::vector<std::string> required;
  for (const auto* question : missing_questions(answers, patterns)) {
    if (question->required_without_terminal) required.emplace_back(question->flag);
  }
  // NAME given as "" is answered: its check says what is wrong with it.
  if (command.name_given) std::erase(required, "NAME");
  if (required.empty()) return;
  if (!interactive_terminal()) {
    // The missing output topic is reported with every other problem (it depends on --pattern).
    std::erase(required, "--output-topic TOPIC");
    if (required.empty()) return;
    std::string list;
    for (const auto& item : required) list += (list.empty() ? "" : ", ") + item;
    throw UsageError(fmt::format("missing {}: e.g. new-kernel my-kernel --topic orders (see --help)", list));
  }
  // In order, each decided when its turn comes: an answer decides what follows (the output
  // topic a pattern needs) and the defaults shown.
  for (const auto& question : questions()) {
    if (question.key == "name" && command.name_given) continue;
    if (question.answered(answers) || !question.applies(answers, patterns)) continue;
    if (!ask(std::cin, std::cerr, question, answers, patterns)) {
      throw UsageError("no answer (end of input): nothing was written");
    }
  }
}

std::string human_size(std::size_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024.0);
}

/// The files as a tree, directories first, with sizes; what .new-kernel/ records (the
/// manifest and a base copy per content) is one line: they are not the kernel's files.
void print_tree(const std::string& root, const std::vector<RenderedFile>& files) {
  struct Node {
    std::map<std::string, Node> children;
    std::optional<std::size_t> size;  // set for files
    std::string summary;              // set for a directory shown on one line
  };
  const auto record_directory = std::string(manifest_path.substr(0, manifest_path.find('/') + 1));
  Node tree;
  std::size_t total = 0, record_files = 0, record_size = 0;
  for (const auto& file : files) {
    total += file.content.size();
    if (file.path.starts_with(record_directory)) {
      ++record_files;
      record_size += file.content.size();
      continue;
    }
    Node* node = &tree;
    std::size_t start = 0;
    while (true) {
      const auto slash = file.path.find('/', start);
      node = &node->children[file.path.substr(start, slash == std::string::npos ? std::string::npos : slash - start)];
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    node->size = file.content.size();
  }
  if (record_files > 0) {
    tree.children[record_directory.substr(0, record_directory.size() - 1)].summary =
        fmt::format("manifest and {} base copies, {}", record_files - 1, human_size(record_size));
  }
  std::cout << root << "/\n";
  const std::function<void(const Node&, const std::string&)> print = [&](const Node& node, const std::string& indent) {
    std::vector<std::pair<std::string, const Node*>> entries;
    for (const auto& [name, child] : node.children) {
      if (!child.size) entries.emplace_back(name, &child);
    }
    for (const auto& [name, child] : node.children) {
      if (child.size) entries.emplace_back(name, &child);
    }
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const bool last = i + 1 == entries.size();
      const auto& [name, child] = entries[i];
      std::cout << indent << (last ? "└── " : "├── ") << name;
      if (child->size) {
        std::cout << "  (" << human_size(*child->size) << ")\n";
      } else if (!child->summary.empty()) {
        std::cout << "/  (" << child->summary << ")\n";
      } else {
        std::cout << "/\n";
        print(*child, indent + (last ? "    " : "│   "));
      }
    }
  };
  print(tree, "");
  std::cout << fmt::format("{} files: {} of the kernel, {} in {}; {} (dry run: nothing was written)\n", files.size(),
                           files.size() - record_files, record_files, record_directory, human_size(total));
}

/// Where a kernel's build finds the runtime installed with this binary.
struct RuntimeLocation {
  enum class Kind {
    searched,  ///< /usr or /usr/local: CMake looks there without being told
    prefix,    ///< an installation prefix of its own, for -DCMAKE_PREFIX_PATH
    unknown,   ///< not an installation (a build tree, a copy): the user must say where
  } kind = Kind::unknown;
  fs::path prefix;
};

RuntimeLocation runtime_location() {
  std::error_code error;
  const auto executable = fs::read_symlink("/proc/self/exe", error);
  if (error) return {};
  const auto prefix = executable.parent_path().parent_path();
  if (prefix == "/usr" || prefix == "/usr/local") return {RuntimeLocation::Kind::searched, prefix};
  if (!fs::exists(prefix / "lib" / "cmake" / "kernel_runtime") &&
      !fs::exists(prefix / "lib" / "x86_64-linux-gnu" / "cmake" / "kernel_runtime")) {
    return {};
  }
  return {RuntimeLocation::Kind::prefix, prefix};
}

/// What the kernel's `cmake -S . -B build` needs added (with its leading space), and, when the
/// location is unknown, the line that says what to put for PREFIX.
std::pair<std::string, std::string> prefix_flag(const RuntimeLocation& runtime) {
  switch (runtime.kind) {
    case RuntimeLocation::Kind::searched: return {"", ""};
    case RuntimeLocation::Kind::prefix: return {fmt::format(" -DCMAKE_PREFIX_PATH={}", runtime.prefix.string()), ""};
    case RuntimeLocation::Kind::unknown: break;
  }
  return {" -DCMAKE_PREFIX_PATH=PREFIX",
          "PREFIX: where the kernel runtime is installed (the --prefix of its cmake --install)\n"};
}

/// --help's last lines: the build command for the runtime installed with this binary, then
/// what comes later.
std::string help_footer() {
  const auto [flag, note] = prefix_flag(runtime_location());
  return fmt::format(
      "{}\nThen: cd NAME && cmake -S . -B build{} && cmake --build build -j && ./build/NAME --samples "
      "samples/input.jsonl\n{}{}",
      examples, flag, note, later);
}

void print_next_steps(const Answers& answers, const fs::path& target, std::size_t file_count,
                      const std::string& git_note) {
  std::string flow = fmt::format("{}", fmt::join(answers.input_topics, ", "));
  if (answers.output_topic) flow += " -> " + *answers.output_topic;
  std::cout << fmt::format("Created {} ({}: {}) in {}: {} files{}.\n\n", answers.name, answers.pattern, flow,
                           target.string(), file_count, git_note);
  const auto [flag, note] = prefix_flag(runtime_location());
  std::cout << "Next steps:\n"
            << fmt::format("  cd {}\n", target.string()) << fmt::format("  cmake -S . -B build{}\n", flag)
            << (note.empty() ? "" : "    " + note) << "  cmake --build build -j\n"
            << "  ctest --test-dir build --output-on-failure\n"
            << fmt::format("  ./build/{} --samples samples/input.jsonl\n", answers.name)
            << fmt::format("Then write your logic in src/handler.cpp; README.md says how to configure and deploy.\n");
}

int generate(CommandLine& command) {
  const auto templates = load_templates(command);
  if (command.list_patterns) {
    print_patterns(templates);
    return exit_code::ok;
  }
  complete_missing(command, templates);
  auto answers = complete_and_check(command.answers, templates.manifest().patterns);
  const auto target = answers.directory;
  // Read before anything is written: a schema's problem stops the generation (64).
  std::optional<SchemaFile> schema;
  if (has_schema(answers)) {
    schema = read_schema(answers.format, answers.schema, answers.message);
    answers.schema = "schemas/" + schema->file_name;  // what the manifest records
    answers.message = schema->message;
  }
  check_target_is_free(target);

  const auto& registry = kernel::config_registry();
  auto files = render_repository(templates, answers, registry, versions());
  auto record = generation_record(templates, answers, files, versions());
  files.insert(files.end(), std::make_move_iterator(record.begin()), std::make_move_iterator(record.end()));
  // The schema is the team's from now on: not a template's file, so no upgrade touches it; the
  // manifest's answers say where it is.
  if (schema) files.push_back({answers.schema, {}, Policy::user, std::move(schema->content), false});

  if (command.dry_run) {
    print_tree(target.string(), files);
    return exit_code::ok;
  }

  std::string git_note;
  const auto enclosing = command.no_git ? std::nullopt : enclosing_git_repository(target);
  if (enclosing) git_note = fmt::format(", no git repository (already inside {})", enclosing->string());
  write_repository(
      target, files,
      [&](const fs::path& directory) {
        if (command.no_git || enclosing) return;
        const auto commit = initialise_git_repository(
            directory, fmt::format("Generate {} with new-kernel {}\n", answers.name, versions().generator));
        git_note = fmt::format(", first commit {}", commit.substr(0, 7));
      },
      TestHooks::from_environment());
  print_next_steps(answers, target, files.size(), git_note);
  return exit_code::ok;
}

/// Prints a failure in one line per problem; returns its exit code.
int report(const std::function<int()>& body) {
  try {
    return body();
  } catch (const GeneratorError& error) {
    std::string message = error.what();
    std::size_t start = 0;
    while (start <= message.size()) {
      const auto end = std::min(message.find('\n', start), message.size());
      std::cerr << "new-kernel: " << message.substr(start, end - start) << "\n";
      start = end + 1;
    }
    return error.exit_code();
  } catch (const std::exception& error) {
    std::cerr << "new-kernel: " << error.what() << "\n";
    return exit_code::io_error;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // upgrade, check, diff, add and remove first: none of them can be a kernel's name.
  if (argc > 1 && is_kernel_command(argv[1])) {
    return report([&] { return run_kernel_command(argc - 1, argv + 1, versions()); });
  }
  if (argc > 1 && is_answer_command(argv[1])) {
    return report([&] { return run_answer_command(argc - 1, argv + 1, versions()); });
  }
  CommandLine command;
  auto& answers = command.answers;
  CLI::App app{
      "Generates a Kafka kernel repository: a C++ service on kernel::runtime that "
      "consumes topics, runs a handler per message and produces to other topics.",
      "new-kernel"};
  app.footer(help_footer());
  app.get_formatter()->column_width(34);
  app.set_version_flag("-V,--version", fmt::format("new-kernel {}", NEW_KERNEL_VERSION));
  app.add_option("NAME", answers.name,
                 "kernel name: lowercase letters, digits and single dashes, starting with a letter");
  app.add_option("-t,--topic", answers.input_topics, "input topic (repeat, or comma-separate, for several)")
      ->type_name("TOPIC")
      ->delimiter(',');
  std::string output_topic, dlq_topic, group;
  auto* output_option =
      app.add_option("-o,--output-topic", output_topic, "topic the kernel produces to")->type_name("TOPIC");
  auto* dlq_option = app.add_option("--dlq-topic", dlq_topic, "dead-letter topic [NAME.dlq]")->type_name("TOPIC");
  auto* group_option = app.add_option("-g,--group", group, "consumer group [NAME]")->type_name("GROUP");
  app.add_option("-p,--pattern", answers.pattern,
                 "consumer, transform, enrichment or batch-sink (see --list-patterns) [transform with an "
                 "output topic, else consumer]")
      ->type_name("PATTERN");
  app.add_option("-d,--description", answers.description, "one sentence on what the kernel does")->type_name("TEXT");
  app.add_option("--pipeline", answers.pipeline,
                 "make the kernel a step of this pipeline (with --step): topics pipeline.P.step.S.<kind>, group "
                 "P-consumer-group, produce guard on (docs/pipelines.md)")
      ->type_name("PIPELINE");
  app.add_option("--step", answers.step, "the kernel's step in --pipeline")->type_name("STEP");
  std::vector<std::string> settings, outputs;
  auto* setting_option =
      app.add_option("--setting", settings,
                     "a setting of the kernel's own (repeat for several), read from NAME_SETTING: TYPE is string, "
                     "int, double, bool, duration, size, list, enum(a|b|c) or secret; no DEFAULT makes it required")
          ->type_name("NAME=TYPE[:DEFAULT[:DESCRIPTION]]");
  auto* outputs_option =
      app.add_option("--output", outputs,
                     "a named output (repeat for several): Context::produce_to(\"NAME\", ...) writes to TOPIC, "
                     "KAFKA_OUTPUT_TOPIC_NAME overrides it")
          ->type_name("NAME=TOPIC");
  app.add_option("--format", answers.format,
                 "how message values are encoded: json, protobuf or avro (Confluent schema registry framing) [json]")
      ->type_name("FORMAT");
  app.add_option("--schema", answers.schema,
                 "with --format protobuf or avro: the .proto or .avsc file, copied into the kernel's schemas/")
      ->type_name("FILE");
  app.add_option("--message", answers.message,
                 "the message type of --schema the handler reads [the .proto's first message, the .avsc's record]")
      ->type_name("NAME");
  app.add_option("--dir", answers.directory, "where to create the repository [./NAME]")->type_name("PATH");
  app.add_flag("-n,--dry-run", command.dry_run, "print the files that would be written; write nothing");
  app.add_flag("--no-git", command.no_git, "do not create a git repository and first commit");
  app.add_option("--templates", command.templates_directory,
                 "render from this template directory instead of the built-in templates")
      ->type_name("DIR");
  app.add_flag("--list-patterns", command.list_patterns, "list the kernel patterns and exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help and --version exit 0; every command-line error is 64 (CLI11's own codes are 100+).
    return app.exit(error) == 0 ? exit_code::ok : exit_code::usage;
  }
  command.name_given = !answers.name.empty() || app.count("NAME") > 0;
  if (output_option->count() > 0) answers.output_topic = output_topic;
  if (dlq_option->count() > 0) answers.dlq_topic = dlq_topic;
  if (group_option->count() > 0) answers.consumer_group = group;
  if (setting_option->count() > 0) answers.settings = settings;
  if (outputs_option->count() > 0) answers.outputs = outputs;

  return report([&] { return generate(command); });
}
