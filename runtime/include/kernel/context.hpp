#pragma once
/// What a handler gets besides the message: a way to produce, the kernel's name, a logger,
/// and which attempt this is. Outputs are collected during the attempt and sent by the
/// runtime only when the handler succeeds, so a retried attempt never sends twice.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "kernel/errors.hpp"
#include "kernel/kernel_settings.hpp"
#include "kernel/outgoing.hpp"

namespace kernel {

class Context;
class Message;
namespace detail {
class KernelMetrics;
struct ContextAccess;  // the runtime's way in (core/context_access.hpp)
/// Work an attempt leaves for the runtime's verdict (deduplicate() marks its id with it).
struct CompletionHook {
  std::function<void()> complete;  ///< run once the loop concludes the attempt as completed
  std::function<void()> undo;      ///< run when that work is lost before its offset is committed
};
}  // namespace detail

/// The rest of the producer chain: call it to pass the message on (possibly changed).
using NextProduce = std::function<void(Outgoing&, const Message& input, Context&)>;
/// Wraps each Context::produce(): `(message, input, context, next)`. It may change the
/// message, measure, or drop it by not calling next; an exception reaches the handler like
/// any other. Runs on the loop thread, inside the handler's call to produce().
using ProducerMiddleware = std::function<void(Outgoing&, const Message& input, Context&, const NextProduce&)>;

class Context {
 public:
  Context(std::string kernel_name, std::optional<std::string> output_topic, std::shared_ptr<spdlog::logger> logger);

  /// Queues a message; sent (with the standard headers) once the handler succeeds.
  /// Without a topic it goes to the kernel's output topic; without either it throws
  /// PermanentError. Producer middleware runs first, in the order it was added.
  void produce(Outgoing message);

  /// Queues a message for the named output `output` (KernelSpec::outputs), whose topic
  /// KAFKA_OUTPUT_TOPIC_<NAME> may override. An undeclared name (a bug in the kernel's code)
  /// throws PermanentError naming the declared outputs, and fails the whole attempt even if
  /// the handler catches it: the input is dead-lettered as processing_error, nothing of the
  /// attempt is sent (docs/pipelines.md).
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

  const std::string& kernel_name() const noexcept { return kernel_name_; }
  const std::optional<std::string>& output_topic() const noexcept { return output_topic_; }
  spdlog::logger& log() const noexcept { return *logger_; }
  /// 1 for the first attempt, 2 for the first retry, ...
  int attempt() const noexcept { return attempt_; }
  /// When this call must have returned (KERNEL_HANDLER_TIMEOUT); nullopt without a deadline.
  /// Bound your own I/O with it: the runtime cannot interrupt a call, it can only treat one
  /// that returns late as a transient failure (`timeout`) and discard its outputs.
  const std::optional<std::chrono::steady_clock::time_point>& deadline() const noexcept { return deadline_; }

  /// What this attempt produced so far (the runtime and tests read it).
  const std::vector<Outgoing>& produced() const noexcept { return produced_; }
  /// The message being handled (nullptr outside a handler call).
  const Message* input() const noexcept { return input_; }

 protected:
  // The runtime's plumbing: not for handlers. The loop reaches it through
  // detail::ContextAccess; testing::TestContext makes the first two public for tests.

  /// Starts a new attempt: forgets what the previous one produced.
  void begin_attempt(int attempt) noexcept {
    attempt_ = attempt;
    produced_.clear();
    produce_refusal_ = {};
    on_completed_.clear();
  }
  /// Producer middleware, outermost first (the runtime sets the kernel's).
  void set_producer_middleware(std::vector<ProducerMiddleware> middleware);
  /// The kernel's settings and named outputs (the runtime sets them from the configuration).
  void set_kernel_values(std::shared_ptr<const KernelValues> values) noexcept { kernel_values_ = std::move(values); }

 private:
  friend struct detail::ContextAccess;

  void set_input(const Message* input) noexcept { input_ = input; }
  void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) noexcept { deadline_ = deadline; }
  detail::KernelMetrics* metrics() const noexcept { return metrics_; }
  void set_metrics(detail::KernelMetrics* metrics) noexcept { metrics_ = metrics; }
  void queue(Outgoing& message);

  /// The produce guard (docs/pipelines.md): given a topic as named in produce(), why it may
  /// not be written, or "" when it may. The runtime sets it under pipeline naming or
  /// KERNEL_ALLOWED_TOPICS; unset, every topic may be written.
  using TopicCheck = std::function<std::string(const std::string& topic)>;
  void set_topic_check(TopicCheck check) { topic_check_ = std::move(check); }
  /// The first produce refused during this attempt: a topic the guard refuses
  /// (topic_not_allowed), or an undeclared output (processing_error). The runtime dead-letters
  /// the input with it even if the handler caught the exception, and sends nothing.
  struct ProduceRefusal {
    std::string message;  ///< "" when nothing was refused
    FailureReason reason = FailureReason::topic_not_allowed;
  };
  const ProduceRefusal& produce_refusal() const noexcept { return produce_refusal_; }
  /// Records `message` as the attempt's refusal (the first one counts) and throws it.
  [[noreturn]] void refuse(std::string message, FailureReason reason);

  std::string kernel_name_;
  std::optional<std::string> output_topic_;
  std::shared_ptr<spdlog::logger> logger_;
  int attempt_ = 1;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::vector<Outgoing> produced_;
  const Message* input_ = nullptr;
  NextProduce produce_chain_;  // empty without producer middleware
  detail::KernelMetrics* metrics_ = nullptr;
  TopicCheck topic_check_;          // empty: no guard
  ProduceRefusal produce_refusal_;  // the first refusal of this attempt
  /// What waits for the runtime's verdict on this attempt: run once the loop concludes it as a
  /// success or a business error, dropped when it turns out a failure (a call past its
  /// deadline, a refused produce the handler caught). deduplicate() marks its ids here.
  std::vector<detail::CompletionHook> on_completed_;
  std::shared_ptr<const KernelValues> kernel_values_;  // null: the kernel declares nothing
};

}  // namespace kernel
