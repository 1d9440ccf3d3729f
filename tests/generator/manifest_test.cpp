// What a generation records: .new-kernel/manifest.json and the base store .new-kernel/base/.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>

#include <kernel/config.hpp>
#include <nlohmann/json.hpp>

#include "config/registry.hpp"

#include "answers.hpp"
#include "errors.hpp"
#include "manifest.hpp"
#include "render.hpp"
#include "template_set.hpp"

namespace manifest_test {

using namespace new_kernel;

namespace {

const Versions versions{"0.1.0", "0.1"};

using Files = std::map<std::string, std::string, std::less<>>;

Answers answers_for(const TemplateSet& templates) {
  Answers a;
  a.name = "my-kernel";
  a.input_topics = {"orders", "refunds"};
  a.output_topic = "orders.out";
  a.pattern = "transform";
  a.description = "Says \"hi\" & $bye";
  return complete_and_check(a, templates.manifest().patterns);
}

/// The rendered files plus what the generation records, as main() writes them.
std::vector<RenderedFile> generate(const TemplateSet& templates) {
  auto files = render_repository(templates, answers_for(templates), kernel::config_registry(), versions);
  auto record = generation_record(templates, answers_for(templates), files, versions);
  files.insert(files.end(), record.begin(), record.end());
  return files;
}

std::map<std::string, std::string> by_path(const std::vector<RenderedFile>& files) {
  std::map<std::string, std::string> map;
  for (const auto& f : files) REQUIRE(map.emplace(f.path, f.content).second);
  return map;
}

nlohmann::json manifest_of(const std::map<std::string, std::string>& files) {
  const auto found = files.find(std::string(manifest_path));
  REQUIRE(found != files.end());
  return nlohmann::json::parse(found->second);
}

std::string manifest_with(const std::string& extra, const std::string& files) {
  return R"({"name": "t", "version": "2.0.0", )" + extra +
         R"("patterns": [{"name": "consumer"}, {"name": "transform", "needs_output_topic": true}], "files": [)" +
         files + "]}";
}

}  // namespace

TEST_CASE("the manifest has its schema, versions, answers and per file path, template, policy, sha256") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const auto templates = TemplateSet::built_in();
  const auto files = by_path(generate(templates));
  const auto document = manifest_of(files);

  CHECK(document["schema"] == manifest_schema);
  CHECK(document["generator"] == nlohmann::json{{"name", "new-kernel"}, {"version", "0.1.0"}});
  CHECK(document["template"]["name"] == "kernel");
  CHECK(document["template"]["version"] == templates.manifest().version);
  CHECK_FALSE(templates.manifest().version.empty());
  CHECK(document["template"]["changes"] == templates.manifest().changes);
  CHECK_FALSE(templates.manifest().changes.empty());  // every template version says what changed
  CHECK(document["template"]["source"] == "built-in");
  const std::set<std::string> answer_keys{"name",      "pattern",        "description", "input_topics", "output_topic",
                                          "dlq_topic", "consumer_group", "settings",    "outputs"};
  std::set<std::string> keys;
  for (const auto& [key, value] : document["answers"].items()) keys.insert(key);
  CHECK(keys == answer_keys);
  CHECK(document["answers"]["input_topics"] == nlohmann::json::array({"orders", "refunds"}));

  REQUIRE(document["files"].size() == templates.manifest().files.size());
  std::vector<std::string> paths;
  for (const auto& entry : document["files"]) {
    std::set<std::string> fields;
    for (const auto& [key, value] : entry.items()) fields.insert(key);
    CHECK(fields == std::set<std::string>{"path", "template", "policy", "sha256"});
    paths.push_back(entry["path"]);
  }
  CHECK(std::is_sorted(paths.begin(), paths.end()));
  // Each file's policy is the one template.json declares for it.
  for (const auto& declared : templates.manifest().files) {
    CAPTURE(declared.path);
    const auto entry = std::find_if(document["files"].begin(), document["files"].end(),
                                    [&](const auto& e) { return e["path"] == declared.path; });
    REQUIRE(entry != document["files"].end());
    CHECK((*entry)["template"] == declared.path);
    CHECK((*entry)["policy"] == name_of(declared.policy));
  }
}

TEST_CASE("each file's sha256 is that of the file written and of its base copy") {
  const auto files = by_path(generate(TemplateSet::built_in()));
  const auto document = manifest_of(files);
  std::set<std::string> referenced;
  for (const auto& entry : document["files"]) {
    const std::string path = entry["path"];
    const std::string sha256 = entry["sha256"];
    CAPTURE(path);
    REQUIRE(files.count(path) == 1);
    CHECK(sha256_hex(files.at(path)) == sha256);
    const auto base = base_path(sha256);
    CHECK(base == ".new-kernel/base/" + sha256);
    REQUIRE(files.count(base) == 1);
    CHECK(files.at(base) == files.at(path));
    CHECK(sha256_hex(files.at(base)) == sha256);
    referenced.insert(base);
  }
  // Nothing else lies in the base store.
  std::set<std::string> stored;
  for (const auto& [path, content] : files) {
    if (path.starts_with(".new-kernel/base/")) stored.insert(path);
  }
  CHECK(stored == referenced);
}

TEST_CASE("identical content is stored once in the base store; policies come from template.json") {
  const auto templates = TemplateSet::from_files(
      Files{{"template.json",
             manifest_with(R"("changes": "two copies of one file.", )",
                           R"({"path": "a.txt"}, {"path": "b/a.txt", "policy": "user"}, {"path": "c.txt"})")},
            {"a.txt.mustache", "same {{name}}\n"},
            {"b/a.txt.mustache", "same {{name}}\n"},
            {"c.txt.mustache", "other\n"}},
      "test");
  const auto files = generate(templates);
  std::vector<std::string> stored;
  for (const auto& f : files) {
    if (f.path.starts_with(".new-kernel/base/")) stored.push_back(f.path);
  }
  std::vector<std::string> expected{base_path(sha256_hex("other\n")), base_path(sha256_hex("same my-kernel\n"))};
  std::sort(expected.begin(), expected.end());  // stored sorted by hash
  CHECK(stored == expected);
  const auto document = manifest_of(by_path(files));
  CHECK(document["template"]["version"] == "2.0.0");
  CHECK(document["template"]["changes"] == "two copies of one file.");
  CHECK(document["template"]["source"] == "directory");
  REQUIRE(document["files"].size() == 3);
  CHECK(document["files"][0]["policy"] == "managed");
  CHECK(document["files"][1]["path"] == "b/a.txt");
  CHECK(document["files"][1]["policy"] == "user");
  CHECK(document["files"][0]["sha256"] == document["files"][1]["sha256"]);
  // The manifest is written last: a reader that finds it finds the base store complete.
  CHECK(files.back().path == manifest_path);
}

TEST_CASE("the record is deterministic and holds no timestamp") {
  const auto templates = TemplateSet::built_in();
  const auto first = generate(templates);
  const auto second = generate(templates);
  REQUIRE(first.size() == second.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    CHECK(first[i].path == second[i].path);
    CHECK(first[i].content == second[i].content);
  }
  const auto manifest = by_path(first).at(std::string(manifest_path));
  CHECK(manifest.ends_with("}\n"));
  CHECK_FALSE(std::regex_search(manifest, std::regex(R"(\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2})")));
  CHECK_FALSE(std::regex_search(manifest,
                                std::regex(R"("[a-z_]*(time|date|created|generated_at)[a-z_]*":)", std::regex::icase)));
  // Keys sorted at every level (the JSON is stable whatever the order of the code).
  const std::function<void(const nlohmann::json&)> sorted = [&](const nlohmann::json& value) {
    if (value.is_object()) {
      std::vector<std::string> keys;
      for (const auto& [key, child] : value.items()) {
        keys.push_back(key);
        sorted(child);
      }
      CHECK(std::is_sorted(keys.begin(), keys.end()));
    } else if (value.is_array()) {
      for (const auto& child : value) sorted(child);
    }
  };
  sorted(nlohmann::json::parse(manifest));
}

TEST_CASE("template.json: an empty version or a changes note of more than one line is refused") {
  const std::string file = R"({"path": "f.txt"})";
  CHECK_THROWS_WITH_AS(
      TemplateSet::from_files(
          Files{{"template.json", manifest_with(R"("changes": "a\nb", )", file)}, {"f.txt.mustache", "x\n"}}, "test"),
      doctest::Contains("\"changes\" must be one line"), TemplateError);
  auto empty_version = manifest_with("", file);
  empty_version.replace(empty_version.find("2.0.0"), 5, "");
  CHECK_THROWS_WITH_AS(
      TemplateSet::from_files(Files{{"template.json", empty_version}, {"f.txt.mustache", "x\n"}}, "test"),
      doctest::Contains("\"version\" is empty"), TemplateError);
}

}  // namespace manifest_test
