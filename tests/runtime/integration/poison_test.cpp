// Poison messages on a running kernel: each is dead-lettered with the reason it deserves, and
// the messages after it are handled; none of them can take the kernel down.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "broker/record_io.hpp"
#include "kernel/testing.hpp"
#include "kernels.hpp"

namespace poison_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string> headers_of(const kernel::jsonl::Record& record) {
  return {record.headers.begin(), record.headers.end()};
}

}  // namespace

TEST_CASE("JSON nested 100,000 deep is dead-lettered as deserialization_error and the kernel goes on") {
  // ~200 KB: nlohmann parses it iteratively, but serialising it recursed once per level.
  const std::size_t levels = 100'000;
  const std::string deep = R"({"a":)" + std::string(levels, '[') + std::string(levels, ']') + "}";
  kernel::testing::KernelFixture fixture(testkernels::json_echo("deep-kernel"),
                                         {{env_var::KAFKA_CONSUMER_GROUP, "deep-group"}});
  fixture.send_raw(deep, "same");
  fixture.send({{"n", 1}}, "same");
  fixture.send({{"n", 2}}, "same");

  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].value == deep);
  const auto headers = headers_of(letters[0]);
  CHECK(headers.at("dlq-failure-reason") == "deserialization_error");
  CHECK(headers.at("dlq-error-message").find("deeper than 512") != std::string::npos);
  const auto outputs = fixture.outputs(2, 20s);
  REQUIRE(outputs.size() == 2);
  CHECK(outputs[0].value == R"({"n":1})");
  CHECK(outputs[1].value == R"({"n":2})");
}

TEST_CASE("a number beyond a double is a deserialization_error and null headers stay null in the dead letter") {
  kernel::testing::KernelFixture fixture(testkernels::json_echo("overflow-kernel"),
                                         {{env_var::KAFKA_CONSUMER_GROUP, "overflow-group"}});
  kernel::jsonl::Record poison;
  poison.key = "same";
  poison.value = R"({"amount": 1e999})";
  poison.headers = kernel::Headers().add_null("absent").add("empty", "").add("text", "v");
  kernel::detail::produce_records(fixture.bootstrap_servers(), "overflow-kernel.in", {poison});
  fixture.send({{"n", 1}}, "same");

  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  const auto& letter = letters[0];
  CHECK(letter.value == poison.value);
  CHECK(headers_of(letter).at("dlq-failure-reason") == "deserialization_error");
  REQUIRE(letter.headers.size() > 3);
  CHECK(letter.headers[0] == std::pair<std::string, std::string>("absent", ""));
  CHECK(letter.headers[1] == std::pair<std::string, std::string>("empty", ""));
  CHECK(letter.headers[2] == std::pair<std::string, std::string>("text", "v"));
  CHECK(letter.headers.is_null(0));  // null, byte for byte; "empty" is not
  CHECK_FALSE(letter.headers.is_null(1));
  CHECK(fixture.outputs(1, 20s).at(0).value == R"({"n":1})");
}

TEST_CASE("a missing field or one of the wrong type is a validation_error with a readable message and type") {
  kernel::KernelSpec spec = testkernels::json_echo("field-kernel");
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    const auto document = message.json();
    context.produce(kernel::Outgoing{}.text(document.at("id").get<std::string>()));
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KAFKA_CONSUMER_GROUP, "field-group"}});
  fixture.send({{"name", "no id"}}, "same");
  fixture.send({{"id", 42}}, "same");
  fixture.send({{"id", "a-1"}}, "same");

  const auto letters = fixture.dead_letters(2, 20s);
  REQUIRE(letters.size() == 2);
  const auto missing = headers_of(letters[0]);
  CHECK(missing.at("dlq-failure-reason") == "validation_error");
  CHECK(missing.at("dlq-error-class") == "permanent");
  CHECK(missing.at("dlq-error-type") == "nlohmann::json::out_of_range");
  CHECK(missing.at("dlq-error-message") == "field \"id\": missing");
  const auto wrong_type = headers_of(letters[1]);
  CHECK(wrong_type.at("dlq-failure-reason") == "validation_error");
  CHECK(wrong_type.at("dlq-error-type") == "nlohmann::json::type_error");
  CHECK(wrong_type.at("dlq-error-message") == "expected string, got number");
  CHECK(fixture.outputs(1, 20s).at(0).value == "a-1");
}

TEST_CASE("when a TransientError's retries run out, the dead letter says why it was retried") {
  kernel::KernelSpec spec = testkernels::json_echo("slow-kernel");
  spec.handler = [](const kernel::Message&, kernel::Context&) {
    throw kernel::TransientError("inventory took 5 s", kernel::FailureReason::timeout);
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KAFKA_CONSUMER_GROUP, "slow-group"},
                                                {env_var::KAFKA_CONSUMER_MAX_RETRIES, "1"},
                                                {env_var::KERNEL_RETRY_BACKOFF, "10ms"},
                                                {env_var::KERNEL_RETRY_JITTER, "0"}});
  fixture.send({{"n", 1}}, "same");
  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  const auto headers = headers_of(letters[0]);
  CHECK(headers.at("dlq-failure-reason") == "retries_exhausted");
  CHECK(headers.at("dlq-error-class") == "transient");
  CHECK(headers.at("dlq-error-message") == "timeout: inventory took 5 s");
  CHECK(headers.at("dlq-retry-count") == "1");
}

}  // namespace poison_test
