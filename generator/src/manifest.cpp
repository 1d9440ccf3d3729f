#include "manifest.hpp"

#include <array>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <nlohmann/json.hpp>

namespace new_kernel {

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed (OpenSSL EVP_Digest)");
  }
  std::string hex;
  hex.reserve(std::size_t{length} * 2);
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::string base_path(std::string_view sha256) { return fmt::format("{}/{}", base_directory, sha256); }

std::string template_source_of(const TemplateSet& templates) {
  if (templates.origin() == "built-in") return templates.origin();
  std::error_code error;
  const auto canonical = std::filesystem::weakly_canonical(templates.origin(), error);
  return error ? templates.origin() : canonical.string();
}

RenderedFile make_manifest(const TemplateSet& templates, const Answers& answers, const std::vector<RenderedFile>& files,
                           const Versions& versions, const std::string& preserved) {
  // nlohmann::json keeps keys sorted: the same answers give the same bytes, whatever the
  // order of this code. Nothing time- or machine-dependent goes in (a no-op upgrade must
  // leave .new-kernel/ byte for byte as it was). The answers hold no secret: none is asked.
  using Json = nlohmann::json;
  Json document;
  document["schema"] = manifest_schema;
  document["generator"] = {{"name", "new-kernel"}, {"version", versions.generator}};
  document["template"] = {{"name", templates.manifest().name},
                          {"version", templates.manifest().version},
                          {"changes", templates.manifest().changes},
                          {"source", templates.origin() == "built-in" ? "built-in" : "directory"}};
  // Where a --templates directory was, so a later run from another source can say so. It is
  // the one machine-dependent field, and only kernels made from a directory have it.
  if (templates.origin() != "built-in") document["template"]["path"] = template_source_of(templates);
  Json answer_values;
  answer_values["name"] = answers.name;
  answer_values["pattern"] = answers.pattern;
  answer_values["description"] = answers.description;
  answer_values["input_topics"] = answers.input_topics;  // the user's order: it is an answer
  answer_values["output_topic"] = answers.output_topic ? Json(*answers.output_topic) : Json(nullptr);
  answer_values["dlq_topic"] = answers.dlq_topic.value_or("");
  answer_values["consumer_group"] = answers.consumer_group.value_or("");
  // Only for pipeline steps, so other kernels' manifests keep their bytes.
  if (!answers.pipeline.empty()) answer_values["pipeline"] = answers.pipeline;
  if (!answers.step.empty()) answer_values["step"] = answers.step;
  answer_values["settings"] = answers.settings.value_or(std::vector<std::string>{});
  answer_values["outputs"] = answers.outputs.value_or(std::vector<std::string>{});
  // Only for protobuf and avro kernels, so json kernels' manifests keep their bytes.
  if (has_schema(answers)) {
    answer_values["format"] = answers.format;
    answer_values["schema"] = answers.schema;
    answer_values["message"] = answers.message;
  }
  document["answers"] = answer_values;
  std::map<std::string, Json> by_path;  // sorted by path, independent of the template's order
  for (const auto& file : files) {
    by_path[file.path] = {{"path", file.path},
                          {"template", file.template_id},
                          {"policy", name_of(file.policy)},
                          {"sha256", sha256_hex(file.content)}};
    // Only when set, so the manifests of kernels without executable files keep their bytes.
    if (file.executable) by_path[file.path]["executable"] = true;
  }
  Json entries = Json::array();
  for (auto& [path, entry] : by_path) entries.push_back(std::move(entry));
  document["files"] = std::move(entries);
  // Fields a newer new-kernel wrote (same schema) survive this one's rewrite; known ones win.
  if (!preserved.empty()) {
    const auto kept = Json::parse(preserved);
    for (const auto& [key, value] : kept.items()) {
      if (!document.contains(key)) {
        document[key] = value;
      } else if (value.is_object() && document[key].is_object()) {
        for (const auto& [inner, inner_value] : value.items()) {
          if (!document[key].contains(inner)) document[key][inner] = inner_value;
        }
      }
    }
  }
  return {std::string(manifest_path), std::string(manifest_path), Policy::managed,
          document.dump(2, ' ', false, Json::error_handler_t::replace) + "\n"};
}

std::vector<RenderedFile> generation_record(const TemplateSet& templates, const Answers& answers,
                                            const std::vector<RenderedFile>& files, const Versions& versions) {
  std::map<std::string, const std::string*> contents;  // sha256 -> content: identical files once
  for (const auto& file : files) contents.emplace(sha256_hex(file.content), &file.content);
  std::vector<RenderedFile> record;
  record.reserve(contents.size() + 1);
  for (const auto& [sha256, content] : contents) {
    record.push_back({base_path(sha256), "", Policy::managed, *content});
  }
  record.push_back(make_manifest(templates, answers, files, versions));
  return record;
}

}  // namespace new_kernel
