// The handler inside the real consumer loop, on the embedded broker (no Kafka to install):
// messages go through Kafka, outputs and dead letters are read back from their topics.
// Takes a few seconds: joining a consumer group does.
#include <doctest/doctest.h>  // its main() comes compiled: kernel::doctest_main

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include <kernel/testing.hpp>
#include <nlohmann/json.hpp>

#include "handler.hpp"
#include "kernel_spec.hpp"
#include "test_settings.hpp"

namespace {

/// The kernel as main() runs it (kernel_spec(): its settings, named outputs and handler), on
/// topics of its own.
kernel::KernelSpec test_kernel() {
  auto spec = order_mapper::kernel_spec();
  spec.name = "order-mapper-test";
  spec.input_topics = {"order-mapper-test.input"};
  spec.output_topic = "order-mapper-test.output";
  return spec;
}

/// The fixture's environment: `values`, and test_settings() for the settings the kernel requires.
kernel::Environment environment(kernel::Environment values = {}) {
  values.merge(order_mapper::test_settings("order-mapper-test"));
  return values;
}

std::optional<std::string> header(const kernel::jsonl::Record& record, std::string_view name) {
  const auto found = std::find_if(record.headers.begin(), record.headers.end(),
                                  [name](const auto& entry) { return entry.first == name; });
  if (found == record.headers.end()) return std::nullopt;
  return found->second;
}

}  // namespace

// Values framed for a schema registry need one (KAFKA_SCHEMA_REGISTRY_URL): README.md says
// how to run the kernel with one. Here: what is refused before the registry is asked.
TEST_CASE("a value not written through a schema registry is dead-lettered") {
  kernel::testing::KernelFixture kernel(test_kernel(), environment());

  kernel.send_raw("not framed", "evt-1");

  const auto dead_letters = kernel.dead_letters(1);
  REQUIRE(dead_letters.size() == 1);
  CHECK(dead_letters[0].value == "not framed");
  CHECK(header(dead_letters[0], "dlq-failure-reason") == "wrong_magic_byte");
  CHECK(header(dead_letters[0], "dlq-original-topic") == "order-mapper-test.input");
}
