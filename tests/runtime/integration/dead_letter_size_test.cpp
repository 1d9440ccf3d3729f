// A dead letter is always writable: a value too large for the producer's message.max.bytes
// (with the key and headers) is cut to fit and marked dlq-truncated; a broker that still
// answers MESSAGE_TOO_LARGE gets it halved until it fits. The partition never stalls.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <map>
#include <regex>
#include <string>

#include <fmt/format.h>
#include <httplib.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <nlohmann/json.hpp>

#include "broker/record_io.hpp"
#include "gate.hpp"
#include "kernel/testing.hpp"
#include "kernels.hpp"
#include "probe.hpp"
#include "wait.hpp"

namespace dead_letter_size_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

constexpr std::int16_t produce_api_key = 0;  // Kafka protocol ApiKey of Produce

/// Produces one record with a producer that accepts large messages (the mock broker does).
void send_large(const std::string& servers, const std::string& topic, const std::string& key, const std::string& value,
                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  auto producer = kernel::detail::make_plain_client(RD_KAFKA_PRODUCER, servers, {{"message.max.bytes", "4000000"}});
  auto* list = rd_kafka_headers_new(headers.size());
  for (const auto& [name, content] : headers) {
    rd_kafka_header_add(list, name.data(), static_cast<ssize_t>(name.size()), content.data(),
                        static_cast<ssize_t>(content.size()));
  }
  REQUIRE(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                            RD_KAFKA_V_KEY(key.data(), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                            RD_KAFKA_V_HEADERS(list),  // owned by the message from here
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
  kernel::testing::KernelFixture fixture(spec, {{env_var::KAFKA_CONSUMER_GROUP, "large-letter-group"},
                                                {env_var::KAFKA_CONSUMER_COMMIT_INTERVAL, "100ms"}});
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

namespace {

/// A bytes-echo kernel whose output the broker refuses as too large, then its dead letter
/// twice (errors injected for Produce hit every producer, so only once `send` has put the
/// input in): the dead letter finally written.
kernel::jsonl::Record refused_twice(const std::string& name,
                                    const std::function<void(kernel::testing::KernelFixture&)>& send) {
  testwait::Gate gate;
  auto spec = testkernels::bytes_echo(name);
  spec.handler = [&, echo = spec.handler](const kernel::Message& message, kernel::Context& context) {
    gate.pass();
    echo(message, context);
  };
  kernel::testing::KernelFixture fixture(
      spec, {{env_var::KAFKA_CONSUMER_GROUP, name + "-group"}, {env_var::KAFKA_PRODUCER_IDEMPOTENCE, "false"}});
  send(fixture);
  REQUIRE(gate.wait_for_arrival());
  std::vector<rd_kafka_resp_err_t> errors(3, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  rd_kafka_mock_push_request_errors_array(fixture.mock_cluster(), produce_api_key, errors.size(), errors.data());
  gate.open();
  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  return letters[0];
}

}  // namespace

TEST_CASE("a dead letter the broker refuses as too large is halved until it is accepted") {
  const auto letter =
      refused_twice("refused-letter", [](auto& fixture) { fixture.send_raw(std::string(1000, 'x'), "k"); });
  auto headers = headers_of(letter);
  CHECK(headers["dlq-failure-reason"] == "output_failed");
  CHECK(headers["dlq-truncated"] == "1000");
  CHECK(letter.value == std::string(250, 'x'));
}

TEST_CASE("a refused dead letter with thousands of small headers loses half of them per refusal, listed briefly") {
  std::vector<std::pair<std::string, std::string>> headers;
  for (int i = 0; i < 2000; ++i) headers.emplace_back(fmt::format("h{:04}", i), "12345678");  // all one size
  const auto letter = refused_twice("refused-headers", [&](auto& fixture) {
    send_large(fixture.bootstrap_servers(), "refused-headers.in", "k", "", headers);  // no value to halve
  });
  std::size_t originals = 0;
  for (const auto& [name, value] : letter.headers) originals += name.starts_with("h") ? 1 : 0;
  CHECK(originals == 500);  // 2000, halved twice
  auto fields = headers_of(letter);
  CHECK(fields["dlq-failure-reason"] == "output_failed");
  const auto removed = nlohmann::json::parse(fields["dlq-removed-headers"]);
  REQUIRE(removed.size() == 33);  // 32 names, then the rest counted
  CHECK(removed[32] == nlohmann::json::array({"...", 1500 - 32, (1500 - 32) * 8}));
  CHECK(letter.key == "k");
}

namespace {

/// The input's partition must not stall: a small record behind the large one is handled.
void check_partition_goes_on(kernel::testing::KernelFixture& fixture, const std::string& topic) {
  kernel::jsonl::Record after;
  after.key = "small";
  after.value = R"({"n":2})";
  after.partition = 0;
  kernel::detail::produce_records(fixture.bootstrap_servers(), topic, {after});
  const auto outputs = fixture.outputs(1, 20s);
  REQUIRE(outputs.size() == 1);
  CHECK(outputs[0].value == R"({"n":2})");
}

}  // namespace

TEST_CASE("a record with a 999,600-byte header is dead-lettered with that header cut, the dlq-* ones kept") {
  kernel::testing::KernelFixture fixture(testkernels::json_echo("large-header"),
                                         {{env_var::KAFKA_CONSUMER_GROUP, "large-header-group"}});
  const std::string blob(999'600, 'h');
  send_large(fixture.bootstrap_servers(), "large-header.in", "k", "not json",
             {{"small", "kept"}, {"blob", blob}});  // not JSON: dead-lettered (deserialization_error)
  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  auto headers = headers_of(letters[0]);
  CHECK(headers["dlq-failure-reason"] == "deserialization_error");
  CHECK(headers.count("blob") == 0);
  CHECK(headers["small"] == "kept");
  CHECK(headers["dlq-removed-headers"] == R"([["blob",999600]])");
  CHECK(letters[0].value == "not json");
  CHECK(letters[0].key == "k");
  check_partition_goes_on(fixture, "large-header.in");
}

TEST_CASE("an input with a 1,000,500-byte key, whose output is too large, is dead-lettered with its key cut") {
  kernel::testing::KernelFixture fixture(testkernels::json_echo("large-key"),
                                         {{env_var::KAFKA_CONSUMER_GROUP, "large-key-group"}});
  std::string key(1'000'500, 'k');
  for (std::size_t i = 0; i < key.size(); i += 991) key[i] = static_cast<char>('a' + i % 26);
  send_large(fixture.bootstrap_servers(), "large-key.in", key, R"({"n":1})");
  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  auto headers = headers_of(letters[0]);
  CHECK(headers["dlq-failure-reason"] == "output_failed");
  CHECK(headers["dlq-key-truncated"] == "1000500");
  REQUIRE(letters[0].key.has_value());
  CHECK(letters[0].key->size() < 1'000'000);
  CHECK(letters[0].key->size() > 900'000);
  CHECK(key.compare(0, letters[0].key->size(), *letters[0].key) == 0);  // a prefix of the original
  CHECK(letters[0].value == R"({"n":1})");
  check_partition_goes_on(fixture, "large-key.in");
}

TEST_CASE("a dead letter that cannot be written fails /readyz, shows in /healthz and the metrics until written") {
  testwait::Gate gate;
  auto spec = testkernels::json_echo("blocked-letter");
  spec.handler = [&](const kernel::Message&, kernel::Context&) {
    gate.pass();
    throw kernel::PermanentError("rejected", kernel::FailureReason::validation_error);
  };
  kernel::testing::KernelFixture fixture(spec, {{env_var::KAFKA_CONSUMER_GROUP, "blocked-letter-group"},
                                                {env_var::KAFKA_PRODUCER_IDEMPOTENCE, "false"},
                                                {env_var::KERNEL_HTTP_PORT, "0"},
                                                {env_var::KERNEL_RETRY_BACKOFF, "1s"},
                                                {env_var::KERNEL_RETRY_JITTER, "0"}});
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(5s);
  fixture.send_raw("{}", "k");
  REQUIRE(gate.wait_for_arrival());
  // The dead-letter topic refuses the writes for good (until an operator grants access).
  std::vector<rd_kafka_resp_err_t> errors(3, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  rd_kafka_mock_push_request_errors_array(fixture.mock_cluster(), produce_api_key, errors.size(), errors.data());
  gate.open();
  auto blocked = [&] {
    const auto metrics = client.Get("/metrics");
    std::smatch match;
    static const std::regex gauge(R"(\nkernel_dead_letters_blocked (\S+)\n)");
    return metrics && std::regex_search(metrics->body, match, gauge) ? std::stod(match[1]) : -1.0;
  };
  std::string body;
  REQUIRE(testwait::wait_until(
      [&] {
        const auto ready = client.Get("/readyz");
        body = ready ? ready->body : "";
        return ready && ready->status == 503;
      },
      20s));
  CHECK(body.find("dead_letter_blocked") != std::string::npos);
  CHECK(body.find("blocked-letter.dlq") != std::string::npos);
  CHECK(blocked() == 1);
  // Not a liveness failure (a restart would meet the same refusal), but said there too.
  const auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body.find("blocked-letter.dlq") != std::string::npos);
  // Access granted (the injected errors are used up): written, committed, ready again.
  const auto letters = fixture.dead_letters(1, 30s);
  REQUIRE(letters.size() == 1);
  CHECK(testwait::wait_until(
      [&] {
        const auto ready = client.Get("/readyz");
        return ready && ready->status == 200 && blocked() == 0;
      },
      20s));
}

}  // namespace dead_letter_size_test
