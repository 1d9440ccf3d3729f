// Named outputs on a running kernel: produce_to() with a name the spec does not declare is a
// bug in the kernel's code. The input is dead-lettered as processing_error with a message
// naming the declared outputs, even when the handler catches the exception, and nothing the
// attempt produced is sent.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "kernel/kernel.hpp"
#include "kernel/testing.hpp"

namespace named_outputs_test {

using namespace std::chrono_literals;

namespace {

kernel::KernelSpec router(bool catches) {
  kernel::KernelSpec spec;
  spec.name = catches ? "catching-router" : "router";
  spec.input_topics = {spec.name + ".in"};
  spec.output_topic = spec.name + ".out";
  spec.outputs = {{"international", spec.name + ".intl"}, {"audit", spec.name + ".audit"}};
  spec.handler = [catches](const kernel::Message& message, kernel::Context& context) {
    const auto document = message.json();
    context.produce(kernel::Outgoing{}.json(document));
    if (!document.value("misrouted", false)) return;
    try {
      context.produce_to("domestic", kernel::Outgoing{}.json(document));
    } catch (const kernel::PermanentError&) {
      if (!catches) throw;
    }
  };
  return spec;
}

}  // namespace

TEST_CASE("produce_to() an undeclared output dead-letters the input naming the declared outputs, sends nothing of it") {
  for (const bool catches : {false, true}) {
    CAPTURE(catches);
    const auto spec = router(catches);
    kernel::testing::KernelFixture fixture(spec);
    fixture.send({{"n", 1}, {"misrouted", true}}, "same");
    fixture.send({{"n", 2}}, "same");  // same key: handled after the first

    const auto letters = fixture.dead_letters(1, 20s);
    REQUIRE(letters.size() == 1);
    const std::map<std::string, std::string> headers(letters[0].headers.begin(), letters[0].headers.end());
    CHECK(headers.at("dlq-failure-reason") == "processing_error");
    CHECK(headers.at("dlq-error-message") ==
          "produce_to(): no output named \"domestic\" is declared in the kernel's spec (declared: audit, "
          "international); add it to KernelSpec::outputs");
    const auto outputs = fixture.outputs(1, 20s);
    REQUIRE(outputs.size() == 1);
    CHECK(outputs[0].value == R"({"n":2})");
    // The first input's own output, produced before the refusal, was never sent.
    CHECK(fixture.read_topic(spec.name + ".out", 1, 20s).size() == 1);
  }
}

}  // namespace named_outputs_test
