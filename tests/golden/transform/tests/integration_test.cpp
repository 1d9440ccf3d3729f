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
  auto spec = payment_mapper::kernel_spec();
  spec.name = "payment-mapper-test";
  spec.input_topics = {"payment-mapper-test.input"};
  spec.output_topic = "payment-mapper-test.output";
  return spec;
}

/// The fixture's environment: `values`, and test_settings() for the settings the kernel requires.
kernel::Environment environment(kernel::Environment values = {}) {
  values.merge(payment_mapper::test_settings("payment-mapper-test"));
  return values;
}

std::optional<std::string> header(const kernel::jsonl::Record& record, std::string_view name) {
  const auto found = std::find_if(record.headers.begin(), record.headers.end(),
                                  [name](const auto& entry) { return entry.first == name; });
  if (found == record.headers.end()) return std::nullopt;
  return found->second;
}

}  // namespace

TEST_CASE("an event goes through the kernel to the output topic") {
  kernel::testing::KernelFixture kernel(test_kernel(), environment());

  kernel.send({{"id", "evt-1"}, {"account", "acme"}, {"amount", 42.5}}, "evt-1",
              {{"event-id", "input-event-1"}, {"correlation-id", "request-7"}});

  const auto outputs = kernel.outputs(1);
  REQUIRE(outputs.size() == 1);
  CHECK(outputs[0].key == "evt-1");
  CHECK(nlohmann::json::parse(outputs[0].value)["id"] == "evt-1");
  CHECK(header(outputs[0], "source") == "payment-mapper-test");
  CHECK(header(outputs[0], "causation-id") == "input-event-1");
  CHECK(header(outputs[0], "correlation-id") == "request-7");
}

TEST_CASE("a malformed message is dead-lettered and the next one still goes through") {
  kernel::testing::KernelFixture kernel(test_kernel(), environment());

  kernel.send_raw("not json", "evt-2");
  kernel.send({{"id", "evt-3"}, {"account", "acme"}, {"amount", 1}}, "evt-3");

  const auto dead_letters = kernel.dead_letters(1);
  REQUIRE(dead_letters.size() == 1);
  CHECK(dead_letters[0].value == "not json");
  CHECK(dead_letters[0].key == "evt-2");
  CHECK(header(dead_letters[0], "dlq-failure-reason") == "deserialization_error");
  CHECK(header(dead_letters[0], "dlq-original-topic") == "payment-mapper-test.input");
  const auto outputs = kernel.outputs(1);
  REQUIRE(outputs.size() == 1);
  CHECK(outputs[0].key == "evt-3");
}
