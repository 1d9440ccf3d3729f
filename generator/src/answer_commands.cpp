#include "answer_commands.hpp"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <kernel/config.hpp>

#include "errors.hpp"
#include "kernel_commands.hpp"
#include "manifest.hpp"

namespace new_kernel {

namespace {

struct Request {
  std::string kind;                ///< setting or output
  std::vector<std::string> texts;  ///< add: the specs; remove: the names (one upgrade for all)
  bool secret = false;
  AnswerUpgrade upgrade;
};

/// docs/message-spec.md is the team's, so never rendered again; the configuration_files test
/// asks for each variable there.
constexpr std::string_view message_spec_note =
    "docs/message-spec.md is yours: name each new variable there, the kernel's configuration_files "
    "test asks for it (--print-config --format markdown describes them)\n";

/// The C++ type a handler reads a setting of this type as (docs/kernel-settings.md).
std::string_view read_as(kernel::SettingType type) {
  switch (type) {
    case kernel::SettingType::integer:
    case kernel::SettingType::size: return "long long";
    case kernel::SettingType::number: return "double";
    case kernel::SettingType::boolean: return "bool";
    case kernel::SettingType::duration: return "std::chrono::milliseconds";
    case kernel::SettingType::list: return "std::vector<std::string>";
    case kernel::SettingType::string:
    case kernel::SettingType::enumeration: break;
  }
  return "std::string";
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

/// `--secret` on a string setting: the same spec with TYPE secret (parse_setting then refuses
/// a default, as it does for `=secret:`).
std::string secret_spec(const std::string& spec) {
  const auto eq = spec.find('=');
  const auto colon = spec.find(':', eq == std::string::npos ? 0 : eq);
  const auto type = eq == std::string::npos ? "" : spec.substr(eq + 1, colon - eq - 1);
  if (type != "string" && type != "secret") {
    throw UsageError(fmt::format(
        "add setting '{}' --secret: only a string setting can be secret; give it as NAME=string::DESCRIPTION", spec));
  }
  return spec.substr(0, eq + 1) + "secret" + (colon == std::string::npos ? "" : spec.substr(colon));
}

/// The question's own checks on the changed answers (a name given twice, an output topic that
/// is an input): what `--set` would say, before anything is written.
void check_answer(const Answers& answers, std::string_view key) {
  if (const auto problems = find_question(key)->check(answers, {}); !problems.empty()) {
    std::string message;
    for (const auto& problem : problems) message += (message.empty() ? "" : "\n") + problem;
    throw UsageError(message + "; nothing was written");
  }
}

template <typename Item, typename Parse>
std::vector<Item> parsed(const std::vector<std::string>& specs, Parse parse) {
  std::vector<Item> items;
  for (const auto& spec : specs) {
    std::string problem;
    if (auto item = parse(spec, problem)) items.push_back(std::move(*item));
  }
  return items;
}

int add_settings(Request request, const Versions& versions) {
  std::vector<std::string> specs;
  std::vector<kernel::KernelSetting> added;
  for (const auto& text : request.texts) {
    specs.push_back(request.secret ? secret_spec(text) : text);
    std::string problem;
    auto setting = parse_setting(specs.back(), problem);  // the same checks as --setting
    if (!setting) throw UsageError(problem);
    added.push_back(std::move(*setting));
  }
  std::string kernel_name;
  request.upgrade.change = [&](Answers& answers) {
    auto recorded = answers.settings.value_or(std::vector<std::string>{});
    for (const auto& declared : parsed<kernel::KernelSetting>(recorded, parse_setting)) {
      for (const auto& setting : added) {
        if (declared.name == setting.name) {
          throw UsageError(
              fmt::format("setting {} is already declared in {}: remove it first (new-kernel remove "
                          "setting {}); nothing was written",
                          setting.name, manifest_path, setting.name));
        }
      }
    }
    recorded.insert(recorded.end(), specs.begin(), specs.end());
    answers.settings = std::move(recorded);
    check_answer(answers, "settings");
    kernel_name = answers.name;
  };
  const auto code = upgrade_with_answers(request.upgrade, versions);
  for (const auto& setting : added) {
    const auto variable = kernel::setting_variable(kernel_name, setting.name);
    std::cout << fmt::format("the handler reads {} (from {}) with:\n  const auto {} = context.setting<{}>(\"{}\");\n",
                             setting.name, variable, lower(setting.name), read_as(setting.type), setting.name);
    if (!setting.default_value) {
      std::cout << fmt::format(
          "{} is required (no default): tests/test_settings.hpp gives the kernel's tests a placeholder; "
          "set {} wherever the kernel runs\n",
          setting.name, variable);
    }
  }
  std::cout << message_spec_note;
  return code;
}

int add_outputs(Request request, const Versions& versions) {
  std::vector<kernel::KernelOutput> added;
  for (const auto& text : request.texts) {
    std::string problem;
    auto output = parse_output(text, problem);  // the same checks as --output
    if (!output) throw UsageError(problem);
    added.push_back(std::move(*output));
  }
  bool batch = false;
  request.upgrade.change = [&](Answers& answers) {
    auto recorded = answers.outputs.value_or(std::vector<std::string>{});
    for (const auto& declared : parsed<kernel::KernelOutput>(recorded, parse_output)) {
      for (const auto& output : added) {
        if (declared.name == output.name) {
          throw UsageError(
              fmt::format("output {} is already declared in {} (topic {}): remove it first "
                          "(new-kernel remove output {}); nothing was written",
                          output.name, manifest_path, declared.topic, output.name));
        }
      }
    }
    recorded.insert(recorded.end(), request.texts.begin(), request.texts.end());
    answers.outputs = std::move(recorded);
    check_answer(answers, "outputs");
    batch = answers.pattern == "batch-sink";
  };
  const auto code = upgrade_with_answers(request.upgrade, versions);
  for (const auto& output : added) {
    std::cout << fmt::format(
        "the handler writes to {} (topic {}, or {}) with:\n  {}\n", output.name, output.topic,
        kernel::output_variable(output.name),
        batch ? fmt::format("batch.produce_to(i, \"{}\", kernel::Outgoing{{}}.json(document));", output.name)
              : fmt::format("context.produce_to(\"{}\", kernel::Outgoing{{}}.json(document));", output.name));
  }
  std::cout << message_spec_note;
  return code;
}

int remove(Request request, const Versions& versions) {
  const bool setting = request.kind == "setting";
  const auto name_of = [&](const std::string& spec) -> std::optional<std::string> {
    std::string problem;
    if (setting) {
      if (auto parsed_setting = parse_setting(spec, problem)) return parsed_setting->name;
    } else if (auto parsed_output = parse_output(spec, problem)) {
      return parsed_output->name;
    }
    return std::nullopt;
  };
  request.upgrade.change = [&](Answers& answers) {
    auto& specs = setting ? answers.settings : answers.outputs;
    auto kept = specs.value_or(std::vector<std::string>{});
    std::vector<std::string> declared;
    for (const auto& spec : kept) {
      if (auto name = name_of(spec)) declared.push_back(*name);
    }
    for (const auto& name : request.texts) {
      if (std::find(declared.begin(), declared.end(), name) == declared.end()) {
        throw UsageError(fmt::format("no {} {} is declared in {} (declared: {}); nothing was written", request.kind,
                                     name, manifest_path, declared.empty() ? "none" : joined(declared)));
      }
    }
    std::erase_if(kept, [&](const std::string& spec) {
      const auto name = name_of(spec);
      return name && std::find(request.texts.begin(), request.texts.end(), *name) != request.texts.end();
    });
    specs = std::move(kept);
  };
  const auto code = upgrade_with_answers(request.upgrade, versions);
  for (const auto& name : request.texts) {
    std::cout << fmt::format(
        "code that still {} \"{}\" now fails (std::logic_error, or a dead letter): remove it too\n",
        setting ? "reads setting" : "produces to output", name);
  }
  return code;
}

}  // namespace

bool is_answer_command(std::string_view word) noexcept { return word == "add" || word == "remove"; }

int run_answer_command(int argc, char** argv, const Versions& versions) {
  const std::string command = argv[0];
  const bool add = command == "add";
  Request request;
  CLI::App app{add ? "Adds a setting or a named output to a generated kernel: records it in "
                     ".new-kernel/manifest.json and re-renders the managed files (src/main.cpp, .env.template, "
                     "deploy/kubernetes.yaml, README.md, CMakeLists.txt) as new-kernel upgrade does, written all or "
                     "nothing."
                   : "Removes a setting or a named output from a generated kernel: records it in "
                     ".new-kernel/manifest.json and re-renders the managed files as new-kernel upgrade does.",
               "new-kernel " + command};
  app.add_option("KIND", request.kind, "setting or output")->required()->check(CLI::IsMember({"setting", "output"}));
  app.add_option(add ? "SPEC" : "NAME", request.texts,
                 add ? "setting: NAME=TYPE[:DEFAULT[:DESCRIPTION]] (TYPE string, int, double, bool, duration, "
                       "size, list, enum(a|b|c) or secret); output: NAME=TOPIC; several: one upgrade for all"
                     : "the setting's or the output's name; several: one upgrade for all")
      ->required();
  if (add) app.add_flag("--secret", request.secret, "a secret setting (TYPE string becomes secret): never printed");
  app.add_option("--dir", request.upgrade.directory, "the kernel's directory [.]")->type_name("DIR");
  app.add_option("--templates", request.upgrade.templates_directory,
                 "render from this template directory instead of the built-in templates")
      ->type_name("DIR");
  app.add_flag("-n,--dry-run", request.upgrade.dry_run, "print what each file would become; write nothing");
  app.add_flag("--diff", request.upgrade.show_diff, "with each file, the unified diff of what changes");
  app.add_flag("--allow-dirty", request.upgrade.allow_dirty, "merge even into managed files with uncommitted changes");
  app.footer(add ? "Examples:\n"
                   "  new-kernel add setting 'HIGH_PRIORITY_AMOUNT=double:100:orders from this amount are urgent'\n"
                   "  new-kernel add setting 'API_KEY=string::key of the pricing API' --secret\n"
                   "  new-kernel add setting 'DATABASE_URL=secret::connection string' 'DATABASE_TIMEOUT=duration:2s'\n"
                   "  new-kernel add output audit=orders.audit\n"
                   "Exit codes as new-kernel upgrade: 0 done, 1 conflicts to resolve, 64 bad spec or already "
                   "declared, 66 not a generated kernel, 73 uncommitted changes to managed files, 74 I/O error."
                 : "Examples:\n"
                   "  new-kernel remove setting HIGH_PRIORITY_AMOUNT\n"
                   "  new-kernel remove output audit\n"
                   "Exit codes as new-kernel upgrade: 0 done, 1 conflicts to resolve, 64 not declared, 66 not a "
                   "generated kernel, 73 uncommitted changes to managed files, 74 I/O error.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& done) {
    return app.exit(done);  // --help
  } catch (const CLI::ParseError& error) {
    throw UsageError(fmt::format("{}: {} (see new-kernel {} --help)", command, error.what(), command));
  }
  if (request.secret && request.kind != "setting") throw UsageError("add output: --secret applies to a setting only");
  if (!add) return remove(std::move(request), versions);
  return request.kind == "setting" ? add_settings(std::move(request), versions)
                                   : add_outputs(std::move(request), versions);
}

}  // namespace new_kernel
