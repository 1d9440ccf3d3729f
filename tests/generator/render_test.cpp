// Template sets, rendering and the .env.template drift check (the manifest: manifest_test.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <kernel/config.hpp>

#include "config/registry.hpp"

#include "answers.hpp"
#include "errors.hpp"
#include "render.hpp"
#include "template_set.hpp"

namespace render_test {

using namespace new_kernel;

namespace {

const Versions versions{"0.1.0", "0.1"};

using Files = std::map<std::string, std::string, std::less<>>;

std::string manifest_with(const std::string& files) {
  return R"({"name": "t", "version": "1", "patterns": [{"name": "consumer"}, {"name": "transform", "needs_output_topic": true}], "files": [)" +
         files + "]}";
}

/// Whether `content` holds a mustache tag left unrendered: `{{` and a sigil anywhere, or `{{` and
/// a name outside C++ and JSON. What else starts with `{{` is content: C++ braces
/// (`{{"label", 1}}`), Prometheus templates in alerting rules (`{{ $value }}`) and Grafana's
/// legends in a dashboard (`{{topic}}`).
bool leftover_tag(const std::string& path, const std::string& content) {
  static const std::regex sigil(R"(\{\{[{#^/>!&=])");
  static const std::regex name(R"(\{\{\s*[A-Za-z_])");
  if (std::regex_search(content, sigil)) return true;
  return !path.ends_with(".cpp") && !path.ends_with(".json") && std::regex_search(content, name);
}

Answers answers_for(const TemplateSet& templates, std::string pattern = "transform") {
  Answers a;
  a.name = "my-kernel";
  a.input_topics = {"orders", "refunds"};
  a.output_topic = "orders.out";
  a.pattern = std::move(pattern);
  a.description = "Says \"hi\" & $bye";
  return complete_and_check(a, templates.manifest().patterns);
}

const RenderedFile& file(const std::vector<RenderedFile>& files, std::string_view path) {
  const auto found = std::find_if(files.begin(), files.end(), [&](const RenderedFile& f) { return f.path == path; });
  REQUIRE(found != files.end());
  return *found;
}

}  // namespace

TEST_CASE("values are escaped for each file's language; triple braces are raw") {
  const auto templates = TemplateSet::from_files(
      Files{{"template.json",
             manifest_with(R"({"path": "a.cpp", "language": "cpp"}, {"path": "b.md", "language": "markdown"})")},
            {"a.cpp.mustache", "{{=<% %>=}}\nauto d = \"<%description%>\"; // {{x}}\n"},
            {"b.md.mustache", "{{description}} `{{{name}}}`\n"}},
      "test");
  const auto files = render_repository(templates, answers_for(templates), {}, versions);
  CHECK(file(files, "a.cpp").content == "auto d = \"Says \\\"hi\\\" & $bye\"; // {{x}}\n");
  CHECK(file(files, "b.md").content == "Says \"hi\" &amp; $bye `my-kernel`\n");
}

TEST_CASE("standalone section lines disappear whether the section renders or not") {
  const auto templates = TemplateSet::from_files(
      Files{{"template.json", manifest_with(R"({"path": "f.txt"})")},
            {"f.txt.mustache",
             "A\n{{#has_output}}\nout\n{{/has_output}}\n{{#consumer}}\nconsumer\n{{/consumer}}\n\n"
             "  {{#input_topics}}\n- {{{topic}}}\n  {{/input_topics}}\nB\n"}},
      "test");
  const auto files = render_repository(templates, answers_for(templates), {}, versions);
  CHECK(file(files, "f.txt").content == "A\nout\n\n- orders\n- refunds\nB\n");
}

TEST_CASE("partials come from the chosen pattern") {
  const auto templates =
      TemplateSet::from_files(Files{{"template.json", manifest_with(R"({"path": "h.txt", "policy": "user"})")},
                                    {"h.txt.mustache", "head\n{{> body}}\ntail\n"},
                                    {"patterns/consumer/body.mustache", "consumer body\n"},
                                    {"patterns/transform/body.mustache", "transform body for {{{name}}}\n"}},
                              "test");
  const auto transform = render_repository(templates, answers_for(templates, "transform"), {}, versions);
  CHECK(file(transform, "h.txt").content == "head\ntransform body for my-kernel\ntail\n");
  CHECK(file(transform, "h.txt").policy == Policy::user);
  const auto consumer = render_repository(templates, answers_for(templates, "consumer"), {}, versions);
  CHECK(file(consumer, "h.txt").content == "head\nconsumer body\ntail\n");
}

TEST_CASE("a template naming an unknown value or partial does not render") {
  const auto value = TemplateSet::from_files(
      Files{{"template.json", manifest_with(R"({"path": "f.txt"})")}, {"f.txt.mustache", "{{nonsense}}\n"}}, "test");
  CHECK_THROWS_WITH_AS(render_repository(value, answers_for(value), {}, versions),
                       doctest::Contains("no value for nonsense"), TemplateError);
  const auto partial = TemplateSet::from_files(
      Files{{"template.json", manifest_with(R"({"path": "f.txt"})")}, {"f.txt.mustache", "{{> nowhere}}\n"}}, "test");
  CHECK_THROWS_WITH_AS(render_repository(partial, answers_for(partial), {}, versions), doctest::Contains("> nowhere"),
                       TemplateError);
  const auto unclosed = TemplateSet::from_files(
      Files{{"template.json", manifest_with(R"({"path": "f.txt"})")}, {"f.txt.mustache", "{{#has_output}}\n"}}, "test");
  CHECK_THROWS_AS(render_repository(unclosed, answers_for(unclosed), {}, versions), TemplateError);
}

TEST_CASE("template paths cannot leave the repository") {
  for (const auto* path : {"../escape", "/etc/passwd", "a/../../b", "./a", "a//b", "a\\\\b", ".git/config",
                           ".new-kernel/manifest.json", "a/"}) {
    CAPTURE(path);
    CHECK_FALSE(is_safe_relative_path(path));
  }
  CHECK(is_safe_relative_path("src/main.cpp"));
  CHECK(is_safe_relative_path(".github/workflows/ci.yml"));
  CHECK_THROWS_WITH_AS(
      TemplateSet::from_files(Files{{"template.json", manifest_with(R"({"path": "../x"})")}, {"../x.mustache", ""}},
                              "test"),
      doctest::Contains("outside the repository"), TemplateError);
}

TEST_CASE("a broken manifest is a template error") {
  CHECK_THROWS_AS(TemplateSet::from_files(Files{{"template.json", "{"}}, "test"), TemplateError);
  CHECK_THROWS_AS(TemplateSet::from_files(Files{}, "test"), TemplateError);
  CHECK_THROWS_WITH_AS(TemplateSet::from_files(Files{{"template.json", manifest_with(R"({"path": "f"})")}}, "test"),
                       doctest::Contains("f.mustache is missing"), TemplateError);
  CHECK_THROWS_WITH_AS(
      TemplateSet::from_files(
          Files{{"template.json", manifest_with(R"({"path": "f", "policy": "mine"})")}, {"f.mustache", ""}}, "test"),
      doctest::Contains("neither managed nor user"), TemplateError);
}

TEST_CASE("the built-in templates render every pattern") {
  const auto templates = TemplateSet::built_in();
  REQUIRE(templates.manifest().patterns.size() == 4);
  for (const auto& pattern : templates.manifest().patterns) {
    CAPTURE(pattern.name);
    const auto files =
        render_repository(templates, answers_for(templates, pattern.name), kernel::config_registry(), versions);
    CHECK(files.size() == templates.manifest().files.size());
    for (const auto& f : files) {
      CAPTURE(f.path);
      CHECK(f.content.find('\x01') == std::string::npos);
      CHECK_FALSE(leftover_tag(f.path, f.content));
      CHECK(f.content.find("<%") == std::string::npos);
      CHECK(f.content.ends_with("\n"));
    }
    CHECK(file(files, "src/kernel_spec.cpp").content.find("spec.input_topics = {\"orders\", \"refunds\"};") !=
          std::string::npos);
  }
}

TEST_CASE("batch-sink: a batch kernel without an output topic; the other patterns keep handle()") {
  const auto templates = TemplateSet::built_in();
  Answers sink;
  sink.name = "order-sink";
  sink.input_topics = {"orders"};
  sink.pattern = "batch-sink";
  const auto answers = complete_and_check(sink, templates.manifest().patterns);
  CHECK_FALSE(answers.output_topic);
  CHECK(answers.description == "A batch-sink kernel on orders.");
  for (const auto* question : missing_questions(sink, templates.manifest().patterns)) {
    CHECK(question->key != "output_topic");  // not asked, as for a consumer
  }

  const auto files = render_repository(templates, answers, kernel::config_registry(), versions);
  const auto& spec_cpp = file(files, "src/kernel_spec.cpp").content;
  CHECK(spec_cpp.find("spec.batch_handler = order_sink::handle_batch;") != std::string::npos);
  CHECK(spec_cpp.find("spec.handler") == std::string::npos);
  CHECK(file(files, "src/handler.hpp")
            .content.find("void handle_batch(kernel::Batch& batch, kernel::Context& context);") != std::string::npos);
  CHECK(file(files, "tests/integration_test.cpp").content.find("auto spec = order_sink::kernel_spec();") !=
        std::string::npos);
  for (const auto* path : {"README.md", "CLAUDE.md"}) {
    CAPTURE(path);
    const auto& text = file(files, path).content;
    CHECK(text.find("KERNEL_BATCH_SIZE") != std::string::npos);
    CHECK(text.find("KERNEL_CONCURRENCY") != std::string::npos);
    CHECK(text.find("kernel::middleware::metrics()") != std::string::npos);
  }

  for (const std::string pattern : {"consumer", "transform", "enrichment"}) {
    CAPTURE(pattern);
    const auto others =
        render_repository(templates, answers_for(templates, pattern), kernel::config_registry(), versions);
    CHECK(file(others, "src/kernel_spec.cpp").content.find("spec.handler = my_kernel::handle;") != std::string::npos);
    for (const auto& f : others) {
      if (f.path == ".env.template") continue;  // lists every variable of the runtime
      CAPTURE(f.path);
      CHECK(f.content.find("batch_handler") == std::string::npos);
      CHECK(f.content.find("KERNEL_BATCH_SIZE") == std::string::npos);
    }
  }
}

TEST_CASE("batch-sink as a pipeline step has no output topic") {
  const auto templates = TemplateSet::built_in();
  Answers step;
  step.name = "order-sink";
  step.pipeline = "orders";
  step.step = "store";
  step.pattern = "batch-sink";
  const auto answers = complete_and_check(step, templates.manifest().patterns);
  CHECK(answers.input_topics == std::vector<std::string>{"pipeline.orders.step.store.input"});
  CHECK_FALSE(answers.output_topic);
}

// .env.template must list exactly the registry's variables, each with its default, secrets
// empty: this fails when the runtime's registry and the generator's rendering drift apart.
TEST_CASE(".env.template lists exactly the configuration registry") {
  const auto templates = TemplateSet::built_in();
  auto answers = answers_for(templates);
  answers.consumer_group = "custom-group";
  const auto files = render_repository(templates, answers, kernel::config_registry(), versions);
  const auto& env = file(files, ".env.template").content;

  std::map<std::string, std::string> assignments;  // name -> value
  std::map<std::string, std::string> comments;     // name -> the comment block above it
  std::set<std::string> active;
  std::istringstream lines(env);
  std::string line, block;
  while (std::getline(lines, line)) {
    const bool commented = line.starts_with("# ");
    const auto body = commented ? line.substr(2) : line;
    const auto equals = body.find('=');
    const bool assignment = equals != std::string::npos && equals > 0 &&
                            std::all_of(body.begin(), body.begin() + static_cast<long>(equals), [](char c) {
                              return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
                            });
    if (assignment) {
      const auto name = body.substr(0, equals);
      CHECK_MESSAGE(!assignments.contains(name), name, " is listed twice");
      assignments[name] = body.substr(equals + 1);
      comments[name] = block;
      if (!commented) active.insert(name);
      block.clear();
    } else if (line.empty()) {
      block.clear();
    } else {
      block += line + "\n";
    }
  }

  REQUIRE_FALSE(kernel::config_registry().empty());
  std::set<std::string> registry_names;
  for (const auto& variable : kernel::config_registry()) {
    if (variable.name.find('<') != std::string::npos) continue;  // a family (KAFKA_PROPERTY_<NAME>)
    CAPTURE(variable.name);
    registry_names.insert(variable.name);
    REQUIRE(assignments.contains(variable.name));
    const auto& comment = comments[variable.name];
    if (!variable.default_value.empty()) {
      CHECK(comment.find("Default: " + variable.default_value + ".") != std::string::npos);
    }
    for (const auto& alias : variable.aliases) CHECK(comment.find(alias) != std::string::npos);
    if (variable.secret) {
      CHECK(assignments[variable.name].empty());
      CHECK(active.contains(variable.name));
    }
  }
  for (const auto& [name, value] : assignments) {
    CAPTURE(name);
    CHECK_MESSAGE(registry_names.contains(name), name, " is not in the runtime's registry");
  }
  CHECK(active.contains("KAFKA_CONSUMER_GROUP"));
  CHECK(assignments["KAFKA_CONSUMER_GROUP"] == "custom-group");
}

TEST_CASE("the kernel's spec is declared once: main() and both tests call kernel_spec()") {
  const auto templates = TemplateSet::built_in();
  for (const auto& pattern : templates.manifest().patterns) {
    CAPTURE(pattern.name);
    auto answers = answers_for(templates, pattern.name);
    answers.settings = std::vector<std::string>{"HIGH_PRIORITY_AMOUNT=double:100", "API_KEY=secret::key"};
    answers.outputs = std::vector<std::string>{"audit=orders.audit"};
    const auto files = render_repository(templates, complete_and_check(answers, templates.manifest().patterns),
                                         kernel::config_registry(), versions);
    const auto count = [](const std::string& text, std::string_view what) {
      std::size_t found = 0;
      for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++found;
      return found;
    };
    std::size_t declarations = 0;
    for (const auto& f : files) declarations += count(f.content, ".name = \"HIGH_PRIORITY_AMOUNT\"");
    CHECK(declarations == 1);
    CHECK(count(file(files, "src/kernel_spec.cpp").content, ".name = \"HIGH_PRIORITY_AMOUNT\"") == 1);
    CHECK(count(file(files, "src/kernel_spec.cpp").content, "{\"audit\", \"orders.audit\"}") == 1);
    for (const auto* path : {"src/main.cpp", "tests/handler_test.cpp", "tests/integration_test.cpp"}) {
      CAPTURE(path);
      CHECK(file(files, path).content.find("my_kernel::kernel_spec()") != std::string::npos);
    }
    // The required setting gets a placeholder for the tests, in the one file add rewrites.
    CHECK(file(files, "tests/test_settings.hpp")
              .content.find("{kernel::setting_variable(name, \"API_KEY\"), \"sample\"}") != std::string::npos);
  }
}

TEST_CASE("generated handler tests that expect success call call_ok(), which says why not") {
  const auto templates = TemplateSet::built_in();
  for (const auto& pattern : templates.manifest().patterns) {
    CAPTURE(pattern.name);
    const auto files =
        render_repository(templates, answers_for(templates, pattern.name), kernel::config_registry(), versions);
    const auto& tests = file(files, "tests/handler_test.cpp").content;
    CHECK(tests.find("#include <kernel/testing_doctest.hpp>") != std::string::npos);
    CHECK(tests.find("outcome.ok()") == std::string::npos);
    CHECK((tests.find("call_ok(") != std::string::npos || tests.find("require_ok(") != std::string::npos));
  }
}

}  // namespace render_test
