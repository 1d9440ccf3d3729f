// A kernel with settings of its own and two named outputs, for test_settings.py. Each input
// {"n": 7, "region": "intl"} goes to the default output with the settings it read; "intl" also
// to output international, every input to output audit. {"leak": true} fails permanently with
// the API key in the exception's text, as a careless HTTP client would, {"leak_env": "VAR"}
// with the value of VAR: neither may reach a log line or a dead letter.
#include <chrono>
#include <cstdlib>
#include <string>

#include <kernel/kernel.hpp>

namespace {

void handle(const kernel::Message& message, kernel::Context& context) {
  const auto document = message.json();
  const auto api_key = context.setting<std::string>("API_KEY");
  context.log().trace("calling the pricing API with key {}", api_key);
  if (document.value("leak", false)) throw kernel::PermanentError("GET https://pricing/?key=" + api_key + " failed");
  // A runtime secret quoted the same way (as a client that read it from the environment would).
  if (const auto variable = document.value("leak_env", std::string()); !variable.empty()) {
    const char* value = std::getenv(variable.c_str());
    throw kernel::PermanentError("token " + std::string(value ? value : "") + " refused");
  }
  const nlohmann::json out{{"n", document.value("n", -1)},
                           {"batch", context.setting<int>("BATCH_SIZE")},
                           {"mode", context.setting<std::string>("MODE")},
                           {"poll_ms", context.setting<std::chrono::milliseconds>("POLL_EVERY").count()}};
  auto output = [&] {
    kernel::Outgoing outgoing;
    if (auto key = message.key()) outgoing.key(std::string(*key));
    outgoing.json(out);
    return outgoing;
  };
  context.produce(output());
  if (document.value("region", "") == "intl") context.produce_to("international", output());
  context.produce_to("audit", output());
}

}  // namespace

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "settings-kernel";
  spec.input_topics = {"st.in"};
  spec.output_topic = "st.out";
  spec.outputs = {{"international", "st.intl"}, {"audit", "st.audit"}};
  spec.settings = {
      {.name = "BATCH_SIZE",
       .type = kernel::SettingType::integer,
       .default_value = "100",
       .description = "rows per insert"},
      {.name = "MODE",
       .type = kernel::SettingType::enumeration,
       .default_value = "fast",
       .description = "routing",
       .choices = {"fast", "safe"}},
      {.name = "POLL_EVERY",
       .type = kernel::SettingType::duration,
       .default_value = "2s",
       .description = "how often to poll"},
      {.name = "API_KEY", .type = kernel::SettingType::string, .description = "key of the pricing API", .secret = true},
  };
  spec.handler = handle;
  return kernel::run(spec, argc, argv);
}
