#pragma once
/// Support for testing a kernel's handler.
///
/// Unit tests, no Kafka:
///   auto message = kernel::testing::make_message({{"id", 1}}, "key-1");
///   kernel::testing::TestContext context;
///   auto outcome = kernel::testing::call(handler, message, context);
///   CHECK(context.produced().size() == 1);
///   // with doctest, kernel/testing_doctest.hpp: fails the test with the outcome's reason
///   auto ok = kernel::testing::call_ok(handler, message, context);
///
/// A batch handler, no Kafka either:
///   std::vector<kernel::Message> messages;  // make_message(..., offset) each
///   kernel::testing::TestContext context;
///   kernel::Batch batch(messages, context);
///   auto outcome = kernel::testing::call(batch_handler, batch, context);  // the whole batch's
///   CHECK(batch.failed(1));
///   CHECK(batch.outputs(0).size() == 1);
///
/// Integration tests, on the embedded broker:
///   kernel::testing::KernelFixture fixture(spec);
///   fixture.send({{"id", 1}}, "key-1");
///   auto outputs = fixture.outputs(1);
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/batch.hpp"
#include "kernel/config.hpp"
#include "kernel/context.hpp"
#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/exit_codes.hpp"
#include "kernel/handler.hpp"
#include "kernel/jsonl.hpp"
#include "kernel/message.hpp"
#include "kernel/spec.hpp"

namespace kernel::testing {

/// The headers of a test message (kernel::Headers: `{{"correlation-id", "c-1"}}`).
using HeaderList = Headers;

/// A message whose value is the compact JSON text of `value`.
Message make_message(const nlohmann::json& value, std::optional<std::string> key = std::nullopt, Headers headers = {},
                     std::string topic = "test-input", std::int32_t partition = 0, std::int64_t offset = 0);
/// A message whose value is `value` encoded as MessagePack, with the header `content-type:
/// application/msgpack` (unless `headers` has a content-type), as Outgoing::msgpack() sends it.
Message make_msgpack_message(const nlohmann::json& value, std::optional<std::string> key = std::nullopt,
                             Headers headers = {}, std::string topic = "test-input", std::int32_t partition = 0,
                             std::int64_t offset = 0);
/// A message whose value is exactly `value` (e.g. malformed JSON).
Message make_raw_message(std::string value, std::optional<std::string> key = std::nullopt, Headers headers = {},
                         std::string topic = "test-input", std::int32_t partition = 0, std::int64_t offset = 0);

/// A Context that records what the handler produced (see Context::produced()).
class TestContext : public Context {
 public:
  explicit TestContext(std::string kernel_name = "test-kernel",
                       std::optional<std::string> output_topic = std::string("test-output"), int attempt = 1);
  /// The context a handler of `spec` gets: the kernel's name and output topic, its settings
  /// (KernelSpec::settings) at their defaults or as `settings` sets their variables
  /// (`{{"ORDERS_ENRICHER_API_KEY", "test-key"}}`; no other environment, no .env), and its
  /// named outputs. Throws ConfigError listing every problem (a required setting left unset).
  explicit TestContext(const KernelSpec& spec, const Environment& settings = {});
  /// Starts attempt `attempt` (2 for the first retry) and forgets what was produced.
  void begin_attempt(int attempt) noexcept;
  /// Producer middleware to run on each produce(), outermost first, as KernelSpec has it.
  void set_producer_middleware(std::vector<ProducerMiddleware> middleware);
  /// The kernel's own settings and named outputs, for setting<T>() and produce_to().
  void set_kernel_values(std::shared_ptr<const KernelValues> values) noexcept;
};

/// Calls the handler as the runtime would, turning exceptions into an Outcome.
Outcome call(const Handler& handler, const Message& message, Context& context);
/// The same through consumer middleware (outermost first), as the runtime chains them.
Outcome call(const Handler& handler, const std::vector<ConsumerMiddleware>& middleware, const Message& message,
             Context& context);

/// Calls a batch handler as the runtime would: the Outcome of the whole batch (success unless
/// it threw), each message's in batch.outcome(i) and batch.outputs(i).
Outcome call(const BatchHandler& handler, Batch& batch, Context& context);

/// The outcome in one line, for a test's failure message: its class, reason, error type and
/// message (`permanent (validation_error) kernel::PermanentError: order without id`), or
/// `success`. kernel/testing_doctest.hpp's call_ok() fails a doctest test with it.
std::string describe(const Outcome& outcome);

/// Runs a kernel on a fresh embedded broker in a background thread, for integration tests.
/// The constructor returns once the kernel has joined its group; the destructor stops it.
class KernelFixture {
 public:
  explicit KernelFixture(KernelSpec spec, Environment environment = {},
                         std::chrono::milliseconds startup_timeout = std::chrono::seconds(30));
  KernelFixture(const KernelFixture&) = delete;
  KernelFixture& operator=(const KernelFixture&) = delete;
  ~KernelFixture();

  /// Stops the kernel as SIGTERM would and returns its exit code (the destructor stops it
  /// too, and ignores the code).
  int stop();
  /// Waits for the kernel to stop by itself (a fatal error) and returns its exit code, or
  /// nullopt if it is still running after `timeout`.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);

  /// Produces to the first input topic and waits for the acknowledgement.
  void send(const nlohmann::json& value, std::optional<std::string> key = std::nullopt, Headers headers = {});
  void send_raw(std::string value, std::optional<std::string> key = std::nullopt, Headers headers = {});
  /// Produces `value` encoded as MessagePack with `content-type: application/msgpack` (unless
  /// `headers` has a content-type), and waits for the acknowledgement.
  void send_msgpack(const nlohmann::json& value, std::optional<std::string> key = std::nullopt, Headers headers = {});
  /// Waits for `count` messages on the output topic. Throws std::runtime_error after
  /// `timeout`, or at once when every message send() wrote has been handled and committed with
  /// dead letters among them (the outputs awaited will not come); the error names each dead
  /// letter's offset, key, `dlq-failure-reason` and error message.
  std::vector<jsonl::Record> outputs(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  /// Waits for `count` messages on the dead-letter topic.
  std::vector<jsonl::Record> dead_letters(std::size_t count,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(30));
  /// Reads everything on a topic up to its current end.
  std::vector<jsonl::Record> read_topic(const std::string& topic, std::size_t at_least,
                                        std::chrono::milliseconds timeout);
  const std::string& bootstrap_servers() const;
  const Config& config() const;
  /// The port of the kernel's health, metrics and admin endpoints (KERNEL_HTTP_PORT, off by
  /// default in the fixture; pass "0" for a free port), or -1 when they are off.
  int http_port() const;
  /// The embedded broker's mock cluster, for fault injection
  /// (rd_kafka_mock_push_request_errors, rd_kafka_mock_broker_set_down, ...: include
  /// <librdkafka/rdkafka_mock.h>).
  rd_kafka_mock_cluster_s* mock_cluster() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kernel::testing
