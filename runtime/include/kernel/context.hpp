#pragma once
/// What a handler gets besides the message: a way to produce, the kernel's name, a logger,
/// and which attempt this is. Outputs are collected during the attempt and sent by the
/// runtime only when the handler succeeds, so a retried attempt never sends twice.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "kernel/kernel_settings.hpp"
#include "kernel/outgoing.hpp"

namespace kernel {

class Context;
class Message;
namespace detail {
class KernelMetrics;
}

/// The rest of the producer chain: call it to pass the message on (possibly changed).
using NextProduce = std::function<void(Outgoing&, const Message& input, Context&)>;
/// Wraps each Context::produce(): `(message, input, context, next)`. It may change the
/// message, measure, or drop it by not calling next; an exception reaches the handler like
/// any other. Runs on the loop thread, inside the handler's call to produce().
using ProducerMiddleware = std::function<void(Outgoing&, const Message& input, Context&, const NextProduce&)>;

class Context {
 public:
  Context(std::string kernel_name, std::optional<std::string> output_topic,
          std::shared_ptr<spdlog::logger> logger);

  /// Queues a message; sent (with the standard headers) once the handler succeeds.
  /// Without a topic it goes to the kernel's output topic; without either it throws
  /// PermanentError. Producer middleware runs first, in the order it was added.
  void produce(Outgoing message);

  /// Queues a message for the named output `output` (KernelSpec::outputs), whose topic
  /// KAFKA_OUTPUT_TOPIC_<NAME> may override. An undeclared name throws PermanentError naming
  /// the declared outputs.
  void produce_to(std::string_view output, Outgoing message);
  /// The kernel's own setting `name` (KernelSpec::settings), typed: setting<int>("BATCH_SIZE"),
  /// setting<std::chrono::milliseconds>("POLL_EVERY"). An undeclared name, or a type the
  /// setting does not have, throws std::logic_error.
  template <typename T>
  T setting(std::string_view name) const {
    return kernel_values().template get<T>(name);
  }
  /// The values of the kernel's settings and the topics of its named outputs.
  const KernelValues& kernel_values() const noexcept;
  /// The runtime sets them from the configuration; a test may set its own.
  void set_kernel_values(std::shared_ptr<const KernelValues> values) noexcept { kernel_values_ = std::move(values); }

  const std::string& kernel_name() const noexcept { return kernel_name_; }
  const std::optional<std::string>& output_topic() const noexcept { return output_topic_; }
  spdlog::logger& log() const noexcept { return *logger_; }
  /// 1 for the first attempt, 2 for the first retry, ...
  int attempt() const noexcept { return attempt_; }

  /// What this attempt produced so far (the runtime and tests read it).
  const std::vector<Outgoing>& produced() const noexcept { return produced_; }
  std::vector<Outgoing> take_produced() noexcept { return std::move(produced_); }
  /// Starts a new attempt: forgets what the previous one produced.
  void begin_attempt(int attempt) noexcept {
    attempt_ = attempt;
    produced_.clear();
  }

  /// The message being handled (nullptr outside a handler call).
  const Message* input() const noexcept { return input_; }
  /// Sets the message being handled; the chain does this around each call.
  void set_input(const Message* input) noexcept { input_ = input; }

  /// Producer middleware, outermost first (the runtime sets the kernel's).
  void set_producer_middleware(std::vector<ProducerMiddleware> middleware);
  /// The runtime's metrics, when they are on (nullptr otherwise); used by the built-in
  /// metrics middleware.
  detail::KernelMetrics* metrics() const noexcept { return metrics_; }
  void set_metrics(detail::KernelMetrics* metrics) noexcept { metrics_ = metrics; }

 private:
  void queue(Outgoing& message);

  std::string kernel_name_;
  std::optional<std::string> output_topic_;
  std::shared_ptr<spdlog::logger> logger_;
  int attempt_ = 1;
  std::vector<Outgoing> produced_;
  const Message* input_ = nullptr;
  NextProduce produce_chain_;  // empty without producer middleware
  detail::KernelMetrics* metrics_ = nullptr;
  std::shared_ptr<const KernelValues> kernel_values_;  // null: the kernel declares nothing
};

}  // namespace kernel
