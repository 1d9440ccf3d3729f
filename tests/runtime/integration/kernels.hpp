#pragma once
// Small kernels the integration tests run on the embedded broker.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/jsonl.hpp"
#include "kernel/kernel.hpp"

namespace testkernels {

/// Reads `<name>.in`, writes `<name>.out`: each input's JSON again, under the input's key. Its
/// value is parsed and serialised, so it exercises the JSON path.
inline kernel::KernelSpec json_echo(const std::string& name) {
  kernel::KernelSpec spec;
  spec.name = name;
  spec.input_topics = {name + ".in"};
  spec.output_topic = name + ".out";
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    kernel::Outgoing output;
    if (const auto key = message.key()) output.key(std::string(*key));
    context.produce(std::move(output.json(message.json())));
  };
  return spec;
}

/// As json_echo, but the value is sent on as the bytes it is (never parsed).
inline kernel::KernelSpec bytes_echo(const std::string& name) {
  auto spec = json_echo(name);
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    kernel::Outgoing output;
    if (const auto key = message.key()) output.key(std::string(*key));
    context.produce(std::move(output.text(std::string(message.value()))));
  };
  return spec;
}

/// `count` records {"n": i} with keys "k<i>", for i in 0..count-1.
inline std::vector<kernel::jsonl::Record> numbered_records(int count) {
  std::vector<kernel::jsonl::Record> records;
  for (int n = 0; n < count; ++n) {
    kernel::jsonl::Record r;
    r.key = "k" + std::to_string(n);
    r.value = nlohmann::json{{"n", n}}.dump();
    records.push_back(r);
  }
  return records;
}

}  // namespace testkernels
