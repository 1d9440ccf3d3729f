#pragma once
// kernel::Producer: publishing for services that are not kernels (a gateway, a scheduler, a
// CLI), on a kernel's configuration, headers and reliability rules: the same KAFKA_* settings
// (TLS, SASL, idempotence, acks, compression) and their validation, the standard headers
// stamped as a kernel stamps them, the produce guard of pipeline naming. Thread-safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <system_error>

#include "kernel/config.hpp"
#include "kernel/context.hpp"
#include "kernel/outgoing.hpp"

namespace prometheus {
class Registry;
}

namespace kernel {

/// What became of one record: where it was written, or why it was not.
struct DeliveryResult {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  /// Empty when delivered; otherwise in the `kernel` category (librdkafka's code).
  std::error_code error;
  /// Why it was not delivered, in words (empty when delivered).
  std::string message;
  /// The failure may pass: sending the record again later can succeed (brokers down, a
  /// timeout, a full queue). False for a refusal that will not change (too large, no such
  /// topic, not authorised, a topic the produce guard refuses).
  bool transient = false;

  bool ok() const noexcept { return !error; }
};

struct ProducerOptions {
  /// How long send() waits for room when the local queue is full (back-pressure) before the
  /// record fails with a transient error. The queue is bounded by librdkafka's
  /// queue.buffering.max.messages and .kbytes (KAFKA_PROPERTY_QUEUE_BUFFERING_MAX_*).
  std::chrono::milliseconds queue_timeout{5000};
  /// How long the destructor waits for records still in flight; what is left is logged.
  std::chrono::milliseconds close_timeout{10000};
  /// Where the producer's metrics go (kernel_producer_*), owned by the caller; none when null.
  prometheus::Registry* metrics = nullptr;
};

/// Called once per record with its result: on the producer's delivery thread, or at once on the
/// sending thread for a record refused before it was queued. It must be quick and must not send
/// (a full queue would wait for the very thread it runs on).
using DeliveryCallback = std::function<void(DeliveryResult)>;

class Producer {
 public:
  /// Reads and validates the environment (and `.env`) as a kernel named `name` would: throws
  /// ConfigError listing every problem.
  static Producer from_environment(const std::string& name, const Environment& environment = process_environment(),
                                   ProducerOptions options = {});
  /// from_environment(), or on a configuration problem: prints one line per problem to
  /// standard error and exits with 78, as a kernel does at start.
  static Producer from_environment_or_exit(const std::string& name, ProducerOptions options = {});
  /// From a loaded configuration; `Config::settings().kernel_name` is the `source` header.
  explicit Producer(const Config& config, ProducerOptions options = {});
  /// Waits up to ProducerOptions::close_timeout for what is in flight, and logs what it could not deliver.
  ~Producer();
  Producer(Producer&&) noexcept;
  Producer& operator=(Producer&&) noexcept;
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  /// Sends `message` to `topic` (or, when `topic` is empty, the message's own topic). The
  /// future is ready once the broker acknowledged the record or it failed for good. A full
  /// local queue blocks up to ProducerOptions::queue_timeout. Never throws for a refused record:
  /// the future carries the refusal.
  std::future<DeliveryResult> send(const std::string& topic, Outgoing message);
  /// Inside a handler: correlation-id and causation-id continue from the input `context` is handling.
  std::future<DeliveryResult> send(const std::string& topic, Outgoing message, const Context& context);
  /// The same without a future: `done` gets the result. Cheaper per record (no shared state to
  /// allocate and synchronise), for a caller that counts or logs outcomes rather than waits.
  void send(const std::string& topic, Outgoing message, DeliveryCallback done);
  /// send(), then waits up to `timeout` (a transient error says when it ran out).
  DeliveryResult send_and_wait(const std::string& topic, Outgoing message, std::chrono::milliseconds timeout);
  /// Sends what librdkafka holds back for batching and waits up to `timeout` for every record in
  /// flight; true when none is left.
  bool flush(std::chrono::milliseconds timeout);
  /// Records sent and not yet acknowledged or failed.
  std::size_t in_flight() const noexcept;
  /// The cluster answers (a metadata request within `timeout`) and the producer has had no
  /// fatal error.
  bool healthy(std::chrono::milliseconds timeout = std::chrono::milliseconds(1000)) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kernel
