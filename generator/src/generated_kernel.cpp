#include "generated_kernel.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <kernel/config.hpp>
#include <nlohmann/json.hpp>

#include "config/registry.hpp"

#include "errors.hpp"
#include "kernel_files.hpp"
#include "manifest.hpp"
#include "prompt.hpp"

namespace new_kernel {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr std::size_t max_files = 10000;
constexpr std::size_t max_depth = 16;  // the manifest is three levels deep
constexpr std::size_t max_text = 4096;

/// Thrown inside the parser; becomes a NotAKernelError with the manifest's path.
struct Invalid {
  std::string reason;
};

bool is_sha256(const std::string& text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

const Json& member(const Json& object, const char* key, const std::string& where) {
  const auto found = object.find(key);
  if (found == object.end()) throw Invalid{fmt::format("{} has no \"{}\"", where, key)};
  return *found;
}

std::string string_at(const Json& object, const char* key, const std::string& where) {
  const auto& value = member(object, key, where);
  if (!value.is_string()) throw Invalid{fmt::format("{}.{} is not a string", where, key)};
  auto text = value.get<std::string>();
  if (text.size() > max_text) throw Invalid{fmt::format("{}.{} is longer than {} bytes", where, key, max_text)};
  return text;
}

Json parse_bounded(const std::string& text) {
  // Depth bounded while parsing: a hostile manifest of nested brackets is refused, not recursed.
  return Json::parse(text, [](int depth, Json::parse_event_t, Json&) {
    if (static_cast<std::size_t>(depth) > max_depth) throw Invalid{"nests too deeply"};
    return true;
  });
}

/// The recorded answers; absent keys are listed in `unanswered`.
void read_answers(const Json& document, GeneratedKernel& kernel) {
  const auto& answers = member(document, "answers", "the manifest");
  if (!answers.is_object()) throw Invalid{"\"answers\" is not an object"};
  auto text = [&](const char* key) -> std::optional<std::string> {
    if (!answers.contains(key)) {
      kernel.unanswered.emplace_back(key);
      return std::nullopt;
    }
    return string_at(answers, key, "answers");
  };
  if (auto name = text("name")) kernel.answers.name = *name;
  if (auto pattern = text("pattern")) kernel.answers.pattern = *pattern;
  if (auto description = text("description")) kernel.answers.description = *description;
  if (answers.contains("input_topics")) {
    const auto& topics = answers["input_topics"];
    if (!topics.is_array() || topics.size() > 1000) throw Invalid{"answers.input_topics is not a list of topics"};
    for (const auto& topic : topics) {
      if (!topic.is_string() || topic.get_ref<const std::string&>().size() > max_text) {
        throw Invalid{"answers.input_topics holds something other than topic names"};
      }
      kernel.answers.input_topics.push_back(topic.get<std::string>());
    }
  } else {
    kernel.unanswered.emplace_back("input_topics");
  }
  if (answers.contains("output_topic")) {
    const auto& output = answers["output_topic"];
    if (output.is_string()) {
      kernel.answers.output_topic = string_at(answers, "output_topic", "answers");
    } else if (!output.is_null()) {
      throw Invalid{"answers.output_topic is neither a topic nor null"};
    }
  } else {
    kernel.unanswered.emplace_back("output_topic");
  }
  // Empty means "the default" (<name>.dlq, the name): what the manifest writes when unset.
  if (auto dlq = text("dlq_topic"); dlq && !dlq->empty()) kernel.answers.dlq_topic = *dlq;
  if (auto group = text("consumer_group"); group && !group->empty()) kernel.answers.consumer_group = *group;
  // Written only for pipeline steps: absent is an answer ("not a step"), not a new question.
  if (answers.contains("pipeline")) kernel.answers.pipeline = string_at(answers, "pipeline", "answers");
  if (answers.contains("step")) kernel.answers.step = string_at(answers, "step", "answers");
  // Written only for protobuf and avro kernels: absent is json, the format before there was a choice.
  kernel.answers.format = answers.contains("format") ? string_at(answers, "format", "answers") : "json";
  if (answers.contains("schema")) kernel.answers.schema = string_at(answers, "schema", "answers");
  if (answers.contains("message")) kernel.answers.message = string_at(answers, "message", "answers");
  // Absent in kernels generated before settings and outputs could be declared: they had none.
  for (const auto* key : {"settings", "outputs"}) {
    std::vector<std::string> specs;
    if (answers.contains(key)) {
      const auto& list = answers[key];
      if (!list.is_array() || list.size() > 1000) throw Invalid{fmt::format("answers.{} is not a list", key)};
      for (const auto& spec : list) {
        if (!spec.is_string() || spec.get_ref<const std::string&>().size() > max_text) {
          throw Invalid{fmt::format("answers.{} holds something other than text", key)};
        }
        specs.push_back(spec.get<std::string>());
      }
    }
    (std::string_view(key) == "settings" ? kernel.answers.settings : kernel.answers.outputs) = std::move(specs);
  }
}

/// The fields of `document` (top level, and inside "generator", "template" and "answers") that
/// this new-kernel does not read, as a JSON object; "" when there are none.
std::string unknown_fields(const Json& document) {
  static const std::map<std::string, std::set<std::string>, std::less<>> known{
      {"generator", {"name", "version"}},
      {"template", {"name", "version", "changes", "source", "path"}},
      {"answers",
       {"name", "pattern", "description", "input_topics", "output_topic", "dlq_topic", "consumer_group", "pipeline",
        "step", "settings", "outputs", "format", "schema", "message"}},
  };
  Json kept = Json::object();
  for (const auto& [key, value] : document.items()) {
    const auto inner = known.find(key);
    if (inner == known.end()) {
      if (key != "schema" && key != "files") kept[key] = value;
      continue;
    }
    if (!value.is_object()) continue;
    for (const auto& [field, field_value] : value.items()) {
      if (!inner->second.contains(field)) kept[key][field] = field_value;
    }
  }
  return kept.empty() ? std::string() : kept.dump();
}

void read_files(const Json& document, GeneratedKernel& kernel) {
  const auto& files = member(document, "files", "the manifest");
  if (!files.is_array()) throw Invalid{"\"files\" is not a list"};
  if (files.size() > max_files) throw Invalid{fmt::format("\"files\" lists more than {} files", max_files)};
  std::set<std::string> paths, templates;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& entry = files[i];
    const auto where = fmt::format("files[{}]", i);
    if (!entry.is_object()) throw Invalid{fmt::format("{} is not an object", where)};
    RecordedFile file;
    file.path = string_at(entry, "path", where);
    file.template_id = string_at(entry, "template", where);
    const auto policy = string_at(entry, "policy", where);
    file.sha256 = string_at(entry, "sha256", where);
    if (!is_safe_relative_path(file.path)) {
      throw Invalid{
          fmt::format("{}.path \"{}\" would land outside the kernel or in a reserved place", where, file.path)};
    }
    if (!is_safe_relative_path(file.template_id)) {
      throw Invalid{fmt::format("{}.template \"{}\" is not a template path", where, file.template_id)};
    }
    if (policy != "managed" && policy != "user") {
      throw Invalid{fmt::format("{}.policy \"{}\" is neither managed nor user", where, policy)};
    }
    file.policy = policy == "user" ? Policy::user : Policy::managed;
    if (!is_sha256(file.sha256)) throw Invalid{fmt::format("{}.sha256 is not 64 lowercase hex digits", where)};
    if (entry.contains("executable")) {
      if (!entry["executable"].is_boolean()) throw Invalid{fmt::format("{}.executable is not true or false", where)};
      file.executable = entry["executable"].get<bool>();
    }
    if (!paths.insert(file.path).second) throw Invalid{fmt::format("\"{}\" is listed twice", file.path)};
    if (!templates.insert(file.template_id).second) {
      throw Invalid{fmt::format("template \"{}\" is listed twice", file.template_id)};
    }
    kernel.files.push_back(std::move(file));
  }
  std::sort(kernel.files.begin(), kernel.files.end(),
            [](const RecordedFile& a, const RecordedFile& b) { return a.path < b.path; });
}

/// The embedded template of the recorded version, rendered with the recorded answers: the
/// exact base of a kernel generated by this new-kernel's templates. Empty when the embedded
/// templates are another version (or the answers are incomplete).
std::map<std::string, std::string> re_render(const GeneratedKernel& kernel, const TemplateSet& built_in,
                                             const Versions& versions) {
  std::map<std::string, std::string> by_template;
  if (built_in.manifest().name != kernel.template_name || built_in.manifest().version != kernel.template_version ||
      !kernel.unanswered.empty()) {
    return by_template;
  }
  try {
    const auto answers = complete_and_check(kernel.answers, built_in.manifest().patterns);
    for (auto& file : render_repository(built_in, answers, kernel::config_registry(), versions)) {
      by_template.emplace(file.template_id, std::move(file.content));
    }
  } catch (const GeneratorError&) {
    by_template.clear();  // answers this template cannot render: merge against empty bases
  }
  return by_template;
}

/// Finds the base of every file whose base copy is not stored: the previous format, or a
/// base store someone damaged.
void recover_bases(GeneratedKernel& kernel, const TemplateSet& built_in, const Versions& versions) {
  std::optional<std::map<std::string, std::string>> rendered;
  for (auto& file : kernel.files) {
    if (file.base) continue;
    const auto on_disk = read_kernel_file(kernel.root, file.path);
    if (on_disk && sha256_hex(on_disk->content) == file.sha256) {
      file.base = on_disk->content;
      file.base_origin = BaseOrigin::unedited;
      kernel.notes.push_back(fmt::format("{}: unedited since generated: takes the new render", file.path));
      continue;
    }
    if (!rendered) rendered = re_render(kernel, built_in, versions);
    const auto found = rendered->find(file.template_id);
    if (found != rendered->end()) {
      file.base = found->second;
      file.base_origin = BaseOrigin::re_rendered;
    } else if (on_disk) {
      file.base = std::string();
      file.base_origin = BaseOrigin::empty;
    }
    const auto how =
        file.base_origin == BaseOrigin::re_rendered
            ? fmt::format("merged against template {} {} rendered again", kernel.template_name, kernel.template_version)
            : fmt::format(
                  "template {} {} is not built into this new-kernel: merged against an "
                  "empty base (differences are marked as conflicts)",
                  kernel.template_name, kernel.template_version);
    kernel.notes.push_back(on_disk ? fmt::format("{}: edited since generated: {}", file.path, how)
                                   : fmt::format("{}: deleted since generated: stays deleted", file.path));
  }
}

void load_stored_bases(GeneratedKernel& kernel) {
  for (auto& file : kernel.files) {
    const auto stored = read_kernel_file(kernel.root, base_path(file.sha256));
    if (stored && sha256_hex(stored->content) == file.sha256) {
      file.base = stored->content;
    } else {
      const auto what = stored ? "damaged (hash differs)" : "missing";
      kernel.notes.push_back(fmt::format("{}: its base copy {} is {}", file.path, base_path(file.sha256), what));
      kernel.missing_bases.push_back(fmt::format("{} ({} {})", file.path, base_path(file.sha256), what));
    }
  }
}

}  // namespace

const std::vector<std::string>& answer_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> keys;
    for (const auto& question : questions()) keys.emplace_back(question.key);
    return keys;
  }();
  return names;
}

void set_answer(Answers& answers, const std::string& key, const std::string& value) {
  const auto* question = find_question(key);
  if (question == nullptr) {
    std::string names;
    for (const auto& name : answer_names()) names += (names.empty() ? "" : ", ") + name;
    throw UsageError(fmt::format("--set {}: unknown answer; use one of {}", key, names));
  }
  question->store(answers, value);
}

GeneratedKernel load_generated_kernel(const fs::path& root_in, const TemplateSet& built_in, const Versions& versions) {
  std::error_code error;
  const auto root = fs::canonical(root_in, error);
  if (error || !fs::is_directory(root)) {
    throw NotAKernelError(
        fmt::format("{}: no such directory: give the kernel's directory (new-kernel upgrade DIR)", root_in.string()));
  }
  const auto where = (fs::path(root_in) / manifest_path).string();
  std::optional<KernelFile> manifest;
  try {
    const auto size = fs::file_size(root / manifest_path, error);
    if (!error && size > max_manifest_size) {
      throw NotAKernelError(
          fmt::format("{} is larger than {} MiB: not a manifest new-kernel wrote", where, max_manifest_size >> 20));
    }
    manifest = read_kernel_file(root, manifest_path);
  } catch (const NotAKernelError&) {
    throw;
  } catch (const GeneratorError& failure) {
    throw NotAKernelError(fmt::format("{} is unreadable: {}", where, failure.what()));
  }
  if (!manifest) {
    throw NotAKernelError(
        fmt::format("{} not found: not a kernel generated by new-kernel (generate one with "
                    "new-kernel NAME, or give its directory)",
                    where));
  }

  GeneratedKernel kernel;
  kernel.root = root;
  try {
    const auto document = parse_bounded(manifest->content);
    if (!document.is_object()) throw Invalid{"it is not a JSON object"};
    if (document.contains("schema")) {
      const auto& schema = document["schema"];
      if (!schema.is_number_integer()) throw Invalid{"\"schema\" is not a number"};
      kernel.schema = schema.get<int>();
      if (kernel.schema > manifest_schema) {
        throw NotAKernelError(
            fmt::format("{} has schema {}, newer than this new-kernel reads ({}): upgrade "
                        "new-kernel itself, then run the command again",
                        where, kernel.schema, manifest_schema));
      }
      if (kernel.schema < 1) throw Invalid{fmt::format("\"schema\" {} does not exist", kernel.schema)};
    }
    const auto& generator = member(document, "generator", "the manifest");
    const auto& templates = member(document, "template", "the manifest");
    if (!generator.is_object() || !templates.is_object()) {
      throw Invalid{"\"generator\" or \"template\" is not an object"};
    }
    kernel.generator_version = string_at(generator, "version", "generator");
    kernel.template_name = string_at(templates, "name", "template");
    kernel.template_version = string_at(templates, "version", "template");
    if (templates.contains("path")) {
      kernel.template_source = string_at(templates, "path", "template");
    } else if (templates.contains("source")) {
      kernel.template_source = string_at(templates, "source", "template");
      if (kernel.template_source != "built-in") kernel.template_source.clear();  // a directory, path unknown
    }
    read_answers(document, kernel);
    read_files(document, kernel);
    kernel.preserved_fields = unknown_fields(document);
  } catch (const Invalid& invalid) {
    throw NotAKernelError(fmt::format("{} is invalid: {}: restore it from version control (git checkout -- {})", where,
                                      invalid.reason, manifest_path));
  } catch (const Json::exception& failure) {
    throw NotAKernelError(
        fmt::format("{} is not valid JSON ({}): restore it from version control "
                    "(git checkout -- {})",
                    where, failure.what(), manifest_path));
  }

  try {
    if (kernel.schema >= 1) load_stored_bases(kernel);
    recover_bases(kernel, built_in, versions);
  } catch (const RefusedError&) {
    throw;
  } catch (const GeneratorError& failure) {
    throw NotAKernelError(fmt::format("{}: {}", where, failure.what()));
  }
  return kernel;
}

}  // namespace new_kernel
