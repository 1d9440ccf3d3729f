#pragma once
// kernel::Requester: request/reply over Kafka for a service that is not a kernel (a gateway).
// Each request goes out through a kernel::Producer with a `reply-to` header naming the
// requester's reply topic and a fresh `correlation-id`; the kernel answers with
// Context::reply(), and the reply, read from that topic, resolves the request's future.
// Thread-safe (docs/producer.md#requests-and-replies).
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <string>

#include "kernel/config.hpp"
#include "kernel/message.hpp"
#include "kernel/outgoing.hpp"
#include "kernel/producer.hpp"

namespace kernel {

struct RequesterOptions {
  /// The topic replies come to, named as to a Producer (KAFKA_TOPIC_PREFIX is prepended). Empty:
  /// `<name>.replies.<instance>`, one per process.
  std::string reply_topic;
  /// This process's part of the default reply topic's name. Empty: the host name (HOSTNAME, else
  /// gethostname()), each character a topic name may not hold written as `-`. Stable across
  /// restarts, so a restarted requester reads the same topic.
  std::string instance;
  /// Requests waiting for their reply at most; past it request() fails at once (transient).
  std::size_t max_in_flight = 10000;
  /// How long the constructor waits for the reply topic's partitions and their ends.
  std::chrono::milliseconds start_timeout{10000};
  /// The producer's options. Its `metrics` registry gets the requester's metrics too.
  ProducerOptions producer;
};

class Requester {
 public:
  /// Reads the environment (and `.env`) as Producer::from_environment() does: throws ConfigError
  /// listing every problem, std::runtime_error when the reply topic cannot be read.
  static Requester from_environment(const std::string& name, const Environment& environment = process_environment(),
                                    RequesterOptions options = {});
  /// From a loaded configuration. Returns once the reply topic is read from its end: a reply to
  /// any request made afterwards is seen. Throws std::runtime_error when the topic does not
  /// exist (and the brokers do not create it) within RequesterOptions::start_timeout.
  explicit Requester(const Config& config, RequesterOptions options = {});
  /// Fails every request still waiting (transient), then closes the consumer and the producer.
  ~Requester();
  Requester(Requester&&) noexcept;
  Requester& operator=(Requester&&) noexcept;
  Requester(const Requester&) = delete;
  Requester& operator=(const Requester&) = delete;

  /// Sends `message` to `topic` (as Producer::send() names it) with `reply-to` and a fresh
  /// `correlation-id` (one set on `message` is replaced), and returns the future of its reply.
  /// The future throws instead: TransientError with FailureReason::timeout when no reply came
  /// within `timeout` (that request only); TransientError when the requester is full
  /// (max_in_flight) or closed, or the record could not be sent for a passing reason;
  /// PermanentError when it was refused for good (an invalid topic, the produce guard). Never
  /// throws itself.
  std::future<Message> request(const std::string& topic, Outgoing message, std::chrono::milliseconds timeout);
  /// Requests waiting for their reply.
  std::size_t in_flight() const;
  /// The reply topic as the brokers know it (the `reply-to` of every request).
  const std::string& reply_topic() const noexcept;
  /// The producer the requests go through, for records that expect no reply.
  Producer& producer() noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kernel
