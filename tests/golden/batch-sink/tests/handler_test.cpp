// Unit tests of the handler: no Kafka, no broker, milliseconds to run.
//   ctest --test-dir build -L unit     or     ./build/order_sink_handler_test
#include <doctest/doctest.h>  // its main() comes compiled: kernel::doctest_main

#include <kernel/testing.hpp>
#include <kernel/testing_doctest.hpp>
#include <nlohmann/json.hpp>

#include "handler.hpp"
#include "kernel_spec.hpp"
#include "test_settings.hpp"

using kernel::testing::call;
using kernel::testing::call_ok;  // fails the test with the outcome's class, reason and message
using kernel::testing::make_message;
using kernel::testing::make_raw_message;
using kernel::testing::require_ok;
using kernel::testing::TestContext;

namespace {

/// The context the handler gets in the kernel: the settings and named outputs of
/// kernel_spec() (src/kernel_spec.cpp), at their defaults; test_settings() gives the required
/// ones a value.
TestContext kernel_context() { return TestContext(order_sink::kernel_spec(), order_sink::test_settings()); }

}  // namespace

namespace {

/// A sink for tests: records each write, or throws as a store that is down does.
class RecordingSink : public order_sink::Sink {
 public:
  void write(const std::vector<order_sink::Row>& rows) override {
    if (down) throw kernel::TransientError("connection refused by the store");
    writes.push_back(rows);
  }

  bool down = false;
  std::vector<std::vector<order_sink::Row>> writes;
};

/// A batch's messages as the runtime hands them over: one partition, consecutive offsets
/// (the position in the list), each a JSON document or, when it is a string, raw bytes.
std::vector<kernel::Message> messages_of(const std::vector<nlohmann::json>& values) {
  std::vector<kernel::Message> messages;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto offset = static_cast<std::int64_t>(i);
    const auto key = "evt-" + std::to_string(i);
    messages.push_back(values[i].is_string()
                           ? make_raw_message(values[i].get<std::string>(), key, {}, "test-input", 0, offset)
                           : make_message(values[i], key, {}, "test-input", 0, offset));
  }
  return messages;
}

/// Calls write_batch() with `sink` as the runtime calls the batch handler.
kernel::Outcome write_to(RecordingSink& sink, kernel::Batch& batch, TestContext& context) {
  const auto handler = [&sink](kernel::Batch& b, kernel::Context& c) { order_sink::write_batch(b, c, sink); };
  return call(handler, batch, context);
}

const nlohmann::json acme{{"id", "evt-a"}, {"account", "acme"}, {"amount", 42.5}};
const nlohmann::json globex{{"id", "evt-g"}, {"account", "globex"}, {"amount", 7}};

}  // namespace

TEST_CASE("a batch is written to the sink in one call, in offset order") {
  auto context = kernel_context();
  RecordingSink sink;
  const auto messages = messages_of({acme, globex, acme});
  kernel::Batch batch(messages, context);

  const auto outcome = write_to(sink, batch, context);

  require_ok(outcome);
  REQUIRE(sink.writes.size() == 1);
  CHECK(sink.writes[0] ==
        std::vector<order_sink::Row>{{"evt-a", "acme", 42.5}, {"evt-g", "globex", 7}, {"evt-a", "acme", 42.5}});
  for (std::size_t i = 0; i < batch.size(); ++i) CHECK(batch.outcome(i).ok());
  CHECK(context.produced().empty());
}

TEST_CASE("a malformed message is dead-lettered alone, with its reason; the rest is written") {
  auto context = kernel_context();
  RecordingSink sink;
  const auto messages = messages_of({acme, "not json", {{"id", "evt-x"}, {"amount", 1}}, globex});
  kernel::Batch batch(messages, context);

  const auto outcome = write_to(sink, batch, context);

  require_ok(outcome);  // the batch as a whole succeeded
  CHECK_FALSE(batch.failed(0));
  CHECK(batch.outcome(1).kind == kernel::Outcome::Kind::permanent);
  CHECK(batch.outcome(1).reason == kernel::FailureReason::deserialization_error);
  CHECK(batch.outcome(2).kind == kernel::Outcome::Kind::permanent);
  CHECK(batch.outcome(2).reason == kernel::FailureReason::validation_error);
  CHECK_FALSE(batch.failed(3));
  REQUIRE(sink.writes.size() == 1);
  CHECK(sink.writes[0] == std::vector<order_sink::Row>{{"evt-a", "acme", 42.5}, {"evt-g", "globex", 7}});
}

TEST_CASE("a batch of malformed messages writes nothing") {
  auto context = kernel_context();
  RecordingSink sink;
  const auto messages = messages_of({"not json", nlohmann::json::array({1, 2})});
  kernel::Batch batch(messages, context);

  const auto outcome = write_to(sink, batch, context);

  require_ok(outcome);
  CHECK(batch.failed(0));
  CHECK(batch.failed(1));
  CHECK(sink.writes.empty());
}

TEST_CASE("a sink that is down fails the whole batch transiently; the retry writes it") {
  auto context = kernel_context();
  RecordingSink sink;
  const auto messages = messages_of({acme, globex});
  sink.down = true;
  {
    kernel::Batch batch(messages, context);

    const auto outcome = write_to(sink, batch, context);

    CHECK(outcome.kind == kernel::Outcome::Kind::transient);  // retried as a batch, with backoff
    CHECK(outcome.message == "connection refused by the store");
    CHECK(sink.writes.empty());
  }
  sink.down = false;
  context.begin_attempt(2);
  kernel::Batch retry(messages, context);

  REQUIRE(write_to(sink, retry, context).ok());
  REQUIRE(sink.writes.size() == 1);
  CHECK(sink.writes[0].size() == 2);
}

TEST_CASE("handle_batch writes to the LogSink, which counts the rows") {
  auto context = kernel_context();
  const auto messages = messages_of({acme, "not json", globex});
  kernel::Batch batch(messages, context);
  const auto before = order_sink::rows_written();

  const auto outcome = call(order_sink::handle_batch, batch, context);

  require_ok(outcome);
  CHECK(batch.failed(1));
  CHECK(order_sink::rows_written() == before + 2);
}
