// A dead letter is always writable: a value too large for the producer's message.max.bytes
// (with the key and headers) is cut to fit and marked dlq-truncated; a broker that still
// answers MESSAGE_TOO_LARGE gets it halved until it fits. The partition never stalls.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "broker/record_io.hpp"
#include "gate.hpp"
#include "kernel/testing.hpp"
#include "kernels.hpp"
#include "probe.hpp"

namespace dead_letter_size_test {

using namespace std::chrono_literals;

namespace {

constexpr std::int16_t produce_api_key = 0;  // Kafka protocol ApiKey of Produce

/// Produces one record with a producer that accepts large messages (the mock broker does).
void send_large(const std::string& servers, const std::string& topic, const std::string& key,
                const std::string& value) {
  auto producer = kernel::detail::make_plain_client(RD_KAFKA_PRODUCER, servers, {{"message.max.bytes", "4000000"}});
  REQUIRE(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                            RD_KAFKA_V_KEY(key.data(), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
  REQUIRE(rd_kafka_flush(producer.get(), 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}

std::map<std::string, std::string> headers_of(const kernel::jsonl::Record& record) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : record.headers) out[name] = value;
  return out;
}

void check_cut_dead_letter(std::size_t size) {
  auto spec = testkernels::bytes_echo("large-letter");
  kernel::testing::KernelFixture fixture(
      spec, {{"KAFKA_CONSUMER_GROUP", "large-letter-group"}, {"KAFKA_CONSUMER_COMMIT_INTERVAL", "100ms"}});
  std::string value(size, 'v');
  for (std::size_t i = 0; i < size; i += 997) value[i] = static_cast<char>('a' + i % 26);  // not all alike
  send_large(fixture.bootstrap_servers(), "large-letter.in", "big", value);
  kernel::jsonl::Record after;
  after.key = "small";
  after.value = R"({"n":2})";
  after.partition = 0;
  kernel::detail::produce_records(fixture.bootstrap_servers(), "large-letter.in", {after});

  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  auto headers = headers_of(letters[0]);
  CHECK(headers["dlq-failure-reason"] == "output_failed");
  CHECK(headers["dlq-truncated"] == std::to_string(size));
  CHECK(letters[0].key == "big");
  CHECK(letters[0].value.size() < 1000000);
  CHECK(letters[0].value.size() > 900000);                                  // cut to fit, not emptied
  CHECK(value.compare(0, letters[0].value.size(), letters[0].value) == 0);  // a prefix of the original
  // The message behind it is handled: the partition did not stall.
  const auto outputs = fixture.outputs(1, 20s);
  REQUIRE(outputs.size() == 1);
  CHECK(outputs[0].value == R"({"n":2})");
}

}  // namespace

TEST_CASE("a 1 MiB value is dead-lettered cut to fit, and the partition goes on") { check_cut_dead_letter(1 << 20); }

TEST_CASE("a value just under message.max.bytes, too large once headers are added, is dead-lettered cut to fit") {
  check_cut_dead_letter(999'900);
}

TEST_CASE("a dead letter the broker refuses as too large is halved until it is accepted") {
  testwait::Gate gate;
  auto spec = testkernels::bytes_echo("refused-letter");
  spec.handler = [&, echo = spec.handler](const kernel::Message& message, kernel::Context& context) {
    gate.pass();
    echo(message, context);
  };
  kernel::testing::KernelFixture fixture(
      spec, {{"KAFKA_CONSUMER_GROUP", "refused-letter-group"}, {"KAFKA_PRODUCER_IDEMPOTENCE", "false"}});
  const std::string value(1000, 'x');
  fixture.send_raw(value, "k");
  // Once the input is in (errors injected for Produce hit every producer): the output is
  // refused (output_failed), then the dead letter twice.
  REQUIRE(gate.wait_for_arrival());
  std::vector<rd_kafka_resp_err_t> errors(3, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  rd_kafka_mock_push_request_errors_array(fixture.mock_cluster(), produce_api_key, errors.size(), errors.data());
  gate.open();

  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  auto headers = headers_of(letters[0]);
  CHECK(headers["dlq-failure-reason"] == "output_failed");
  CHECK(headers["dlq-truncated"] == "1000");
  CHECK(letters[0].value == std::string(250, 'x'));
}

}  // namespace dead_letter_size_test
