// An output that fails for good (too large for the broker) dead-letters its input with
// output_failed; the messages around it are handled and everything is committed.
#include <doctest/doctest.h>

#include <map>

#include "kernel/testing.hpp"
#include "probe.hpp"

namespace output_failed_test {

using namespace std::chrono_literals;

TEST_CASE("an output refused for good dead-letters its input with output_failed") {
  kernel::KernelSpec spec;
  spec.name = "too-large-kernel";
  spec.input_topics = {"large.in"};
  spec.output_topic = "large.out";
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    auto document = message.json();
    std::string value = document.dump();
    if (document.value("big", false)) value = std::string(3'000'000, 'x');  // above message.max.bytes
    context.produce(kernel::Outgoing{}.key(std::string(*message.key())).text(value));
  };
  kernel::testing::KernelFixture fixture(spec, {{kernel::env_var::KAFKA_CONSUMER_GROUP, "large-group"},
                                                {kernel::env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"}});
  fixture.send({{"n", 1}}, "same");
  fixture.send({{"n", 2}, {"big", true}}, "same", {{"correlation-id", "c-2"}});
  fixture.send({{"n", 3}}, "same");

  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  std::map<std::string, std::string> headers(letters[0].headers.begin(), letters[0].headers.end());
  CHECK(headers["dlq-failure-reason"] == "output_failed");
  CHECK(headers["dlq-error-class"] == "permanent");
  CHECK(headers["correlation-id"] == "c-2");
  CHECK(headers["dlq-error-message"].find("large.out") != std::string::npos);
  CHECK(nlohmann::json::parse(letters[0].value)["n"] == 2);

  const auto outputs = fixture.outputs(2, 20s);
  CHECK(outputs.size() == 2);
  // Everything, the failed one included, is committed once the dead letter is acknowledged.
  const auto partition = letters[0].headers.size() ? std::stoi(headers["dlq-original-partition"]) : -1;
  long long committed = -1;
  for (int attempt = 0; attempt < 100 && committed != 3; ++attempt) {
    committed = probe::committed(fixture.bootstrap_servers(), "large-group", "large.in")[partition];
  }
  CHECK(committed == 3);
}

}  // namespace output_failed_test
