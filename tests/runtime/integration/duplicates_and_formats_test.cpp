// deduplicate() and MessagePack payloads in a real run on the embedded broker.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>

#include <httplib.h>

#include "config/settings.hpp"
#include "kernel/middleware.hpp"
#include "kernel/testing.hpp"
#include "wait.hpp"

namespace duplicates_and_formats_test {

namespace env_var = kernel::env_var;

using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string> headers_of(const kernel::jsonl::Record& record) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : record.headers) out[name] = value;
  return out;
}

double metric(const std::string& text, const std::string& sample) {
  const std::regex line("^" + std::regex_replace(sample, std::regex(R"([{}"])"), R"(\$&)") + R"( (\S+)$)",
                        std::regex::multiline);
  std::smatch match;
  return std::regex_search(text, match, line) ? std::stod(match[1]) : -1;
}

}  // namespace

TEST_CASE("deduplicate on a live kernel: inputs with a repeated event-id produce one output each, counted") {
  std::atomic<int> handled{0};
  kernel::KernelSpec spec;
  spec.name = "dedup-kernel";
  spec.input_topics = {"dedup.in"};
  spec.output_topic = "dedup.out";
  spec.middleware = {kernel::middleware::deduplicate()};
  spec.handler = [&](const kernel::Message& m, kernel::Context& ctx) {
    ++handled;
    ctx.produce(kernel::Outgoing{}.key(m.key()).json(m.json()));
  };
  kernel::testing::KernelFixture fixture(spec,
                                         {{env_var::KERNEL_HTTP_PORT, "0"}, {env_var::KERNEL_DEDUP_WINDOW, "100,5m"}});
  REQUIRE(fixture.http_port() > 0);
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(5s);

  // One key: one partition, so each copy comes after the first has completed.
  int n = 0;
  for (const auto* id : {"e-1", "e-2", "e-1", "e-3", "e-2", "e-1"}) {
    fixture.send({{"n", ++n}, {"id", id}}, "k", {{"event-id", id}});
  }
  const auto outputs = fixture.outputs(3, 30s);
  REQUIRE(outputs.size() == 3);
  std::string text;
  CHECK(testwait::wait_until(
      [&] {
        auto response = client.Get("/metrics");
        text = response ? response->body : "";
        return metric(text, R"(kernel_messages_handled_total{outcome="success",topic="dedup.in"})") == 6;
      },
      20s));
  CHECK(metric(text, R"(kernel_messages_deduplicated_total{topic="dedup.in"})") == 3);
  CHECK(handled == 3);
  // Nothing else was produced: the output topic holds the three first copies, in order.
  const auto all = fixture.read_topic(fixture.config().settings().output_topic.value(), 3, 10s);
  REQUIRE(all.size() == 3);
  CHECK(nlohmann::json::parse(all[0].value)["n"] == 1);
  CHECK(nlohmann::json::parse(all[1].value)["n"] == 2);
  CHECK(nlohmann::json::parse(all[2].value)["n"] == 4);
}

TEST_CASE("deduplicate marks an id only once the loop concluded the attempt a success: a late call is retried") {
  // A call returning past KERNEL_HANDLER_TIMEOUT is a success to the chain but a timeout to the
  // loop, which discards its outputs; its retry must run, not be dropped as a duplicate.
  std::mutex mutex;
  std::map<std::string, int> attempts;  // per event-id
  kernel::KernelSpec spec;
  spec.name = "dedup-late";
  spec.input_topics = {"dedup-late.in"};
  spec.output_topic = "dedup-late.out";
  spec.middleware = {kernel::middleware::deduplicate()};
  spec.handler = [&](const kernel::Message& m, kernel::Context& ctx) {
    int attempt = 0;
    {
      std::lock_guard lock(mutex);
      attempt = ++attempts[std::string(m.header("event-id").value_or(""))];
    }
    // The first call of each input runs past its deadline: slow work, not synchronisation.
    if (attempt == 1) std::this_thread::sleep_for(120ms);
    ctx.produce(kernel::Outgoing{}.key(m.key()).json(m.json()));
  };
  kernel::Environment environment{{env_var::KERNEL_HANDLER_TIMEOUT, "50ms"},
                                  {env_var::KERNEL_RETRY_BACKOFF, "10ms"},
                                  {env_var::KERNEL_BREAKER_THRESHOLD, "0"}};
  SUBCASE("on the loop thread") {}
  SUBCASE("on workers") { environment[env_var::KERNEL_CONCURRENCY] = "4"; }
  SUBCASE("through retry topics") { environment[env_var::KERNEL_RETRY_TOPICS] = "10ms"; }
  kernel::testing::KernelFixture fixture(spec, environment);
  constexpr int inputs = 20;
  for (int i = 0; i < inputs; ++i) {
    const auto id = "late-" + std::to_string(i);
    fixture.send({{"n", i}}, "k" + std::to_string(i % 5), {{"event-id", id}});
  }
  const auto outputs = fixture.outputs(inputs, 60s);
  CHECK(outputs.size() == inputs);
  std::lock_guard lock(mutex);
  CHECK(attempts.size() == inputs);
  for (const auto& [id, count] : attempts) CHECK_MESSAGE(count == 2, id);
}

TEST_CASE("MessagePack on a live kernel: msgpack and JSON inputs decode by content-type, msgpack outputs") {
  kernel::KernelSpec spec;
  spec.name = "msgpack-kernel";
  spec.input_topics = {"mp.in"};
  spec.output_topic = "mp.out";
  spec.handler = [](const kernel::Message& m, kernel::Context& ctx) {
    auto document = m.decode();
    document["format"] = std::string(m.header("content-type").value_or("none"));
    ctx.produce(kernel::Outgoing{}.key(m.key()).msgpack(document));
  };
  kernel::testing::KernelFixture fixture(spec);

  fixture.send_msgpack({{"id", 1}, {"bytes", nlohmann::json::binary({1, 2, 255})}}, "k");
  fixture.send({{"id", 2}}, "k");
  const auto outputs = fixture.outputs(2, 30s);
  REQUIRE(outputs.size() == 2);
  for (const auto& output : outputs) CHECK(headers_of(output).at("content-type") == "application/msgpack");
  const auto first = nlohmann::json::from_msgpack(outputs[0].value);
  CHECK(first["id"] == 1);
  const std::vector<std::uint8_t> bytes = first["bytes"].get_binary();
  CHECK(bytes == std::vector<std::uint8_t>{1, 2, 255});
  CHECK(first["format"] == "application/msgpack");
  const auto second = nlohmann::json::from_msgpack(outputs[1].value);
  CHECK(second == nlohmann::json{{"id", 2}, {"format", "none"}});

  // Bytes that are not MessagePack under its content-type: dead-lettered, saying why.
  fixture.send_raw("\xc1", "k", {{"content-type", "application/msgpack"}});
  const auto letters = fixture.dead_letters(1, 30s);
  REQUIRE(letters.size() == 1);
  const auto headers = headers_of(letters[0]);
  CHECK(headers.at("dlq-failure-reason") == "deserialization_error");
  CHECK(headers.at("dlq-error-message").starts_with("value is not MessagePack: "));
  CHECK(letters[0].value == "\xc1");
}

}  // namespace duplicates_and_formats_test
