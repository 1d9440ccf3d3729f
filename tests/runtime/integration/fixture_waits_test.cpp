// The fixture's waits: a wait for outputs that cannot come (the message was dead-lettered)
// fails at once and says why, instead of waiting out its timeout.
#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "kernel/testing.hpp"

namespace fixture_waits_test {

using namespace std::chrono_literals;

namespace {
kernel::KernelSpec validating_kernel() {
  kernel::KernelSpec spec;
  spec.name = "fixture-waits-kernel";
  spec.input_topics = {"waits.in"};
  spec.output_topic = "waits.out";
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    const auto document = message.json();
    if (!document.contains("account")) {
      throw kernel::PermanentError("no account", kernel::FailureReason::validation_error);
    }
    context.produce(kernel::Outgoing{}.key(std::string(message.key().value_or(""))).json(document));
  };
  return spec;
}
}  // namespace

TEST_CASE("a wait for outputs fails at once, naming the dead-letter reason, when its message was dead-lettered") {
  kernel::testing::KernelFixture fixture(validating_kernel());
  fixture.send({{"account", "acme"}}, "good");
  fixture.send({{"amount", 3}}, "bad");

  const auto started = std::chrono::steady_clock::now();
  std::string error;
  try {
    fixture.outputs(2, 30s);
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  const auto waited = std::chrono::steady_clock::now() - started;
  INFO("error: " << error);
  CHECK(error.find("expected 2 messages on waits.out, got 1") != std::string::npos);
  CHECK(error.find("key \"bad\": validation_error (no account)") != std::string::npos);
  CHECK(waited < 15s);  // the commit interval (1 s) and a read, not the 30 s timeout

  // A wait that can be met still is: the dead letter does not spoil it.
  CHECK(fixture.outputs(1, 30s).size() == 1);
}

}  // namespace fixture_waits_test
