#include "manifest.hpp"

#include <array>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace new_kernel {

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed (OpenSSL EVP_Digest)");
  }
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

RenderedFile make_manifest(const TemplateSet& templates, const Answers& answers,
                           const std::vector<RenderedFile>& files, const Versions& versions) {
  // ordered_json keeps the keys in the order written here: the file is meant to be read.
  using Json = nlohmann::ordered_json;
  Json document;
  document["generator"] = {{"name", "new-kernel"}, {"version", versions.generator}};
  document["template"] = {{"name", templates.manifest().name},
                          {"version", templates.manifest().version},
                          {"source", templates.origin() == "built-in" ? "built-in" : "directory"}};
  Json answer_values;
  answer_values["name"] = answers.name;
  answer_values["pattern"] = answers.pattern;
  answer_values["description"] = answers.description;
  answer_values["input_topics"] = answers.input_topics;
  answer_values["output_topic"] = answers.output_topic ? Json(*answers.output_topic) : Json(nullptr);
  answer_values["dlq_topic"] = answers.dlq_topic.value_or("");
  answer_values["consumer_group"] = answers.consumer_group.value_or("");
  document["answers"] = answer_values;
  Json entries = Json::array();
  for (const auto& file : files) {
    entries.push_back({{"path", file.path},
                       {"template", file.template_id},
                       {"policy", name_of(file.policy)},
                       {"sha256", sha256_hex(file.content)}});
  }
  document["files"] = entries;
  return {std::string(manifest_path), std::string(manifest_path), Policy::managed,
          document.dump(2, ' ', false, Json::error_handler_t::replace) + "\n"};
}

}  // namespace new_kernel
