// The kernel's spec, declared once: its name, the topics it uses unless its configuration names
// others, its own settings and named outputs, and its handler. main() runs it; the tests build
// on it (tests/handler_test.cpp, tests/integration_test.cpp). Everything else is configuration
// (.env.template); the logic is in handler.cpp. new-kernel add and remove (setting, output)
// rewrite the declarations here.
#include "kernel_spec.hpp"

#include "handler.hpp"

namespace payment_mapper {

kernel::KernelSpec kernel_spec() {
  kernel::KernelSpec spec;
  spec.name = "payment-mapper";
  spec.version = PAYMENT_MAPPER_VERSION;  // project(VERSION) in CMakeLists.txt
  spec.description = "Maps payments to \"cents\" documents: $HOME, ${X}, `x`, *y*, <z> & a\\b; done.";
  spec.input_topics = {"payments", "refunds"};
  spec.output_topic = "payments.mapped";
  // Named outputs: context.produce_to("name", message) writes to one; KAFKA_OUTPUT_TOPIC_<NAME>
  // overrides its topic.
  spec.outputs = {
      {"audit", "payments.audit"},
      {"large-amounts", "payments.large"},
  };
  // The kernel's own settings, read from PAYMENT_MAPPER_<SETTING> (.env.template lists them);
  // the handler reads one with context.setting<T>("NAME").
  spec.settings = {
      {.name = "ROUNDING",
       .type = kernel::SettingType::enumeration,
       .default_value = "half-up",
       .description = "how \"cents\" round: $HOME, `x` & <z> | a\\b",
       .choices = {"half-up", "half-even"}},
      {.name = "BATCH_SIZE",
       .type = kernel::SettingType::integer,
       .default_value = "100",
       .description = "rows per insert"},
      {.name = "LEDGER_TOKEN",
       .type = kernel::SettingType::string,
       .description = "token of the ledger API",
       .secret = true},
      {.name = "REGION",
       .type = kernel::SettingType::string,
       .description = "region of the ledger"},
  };
  spec.handler = payment_mapper::handle;
  return spec;
}

}  // namespace payment_mapper
