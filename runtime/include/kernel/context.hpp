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

#include "kernel/errors.hpp"
#include "kernel/kernel_settings.hpp"
#include "kernel/outgoing.hpp"
#include "kernel/trace.hpp"

namespace spdlog {
class logger;  // <kernel/kernel.hpp> includes <spdlog/logger.h>, for handlers to log with
}  // namespace spdlog

namespace kernel {

class Context;
class Message;
class Metrics;  // kernel/metrics.hpp, which kernel.hpp includes
namespace detail {
/// The runtime's part of a Context (its producer chain, produce guard, metrics, ...): declared
/// here, defined only inside the runtime.
struct ContextState;
/// What a handler reads of the attempt under way. The runtime writes it, in its ContextState.
struct AttemptFields {
  int number = 1;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  const Message* input = nullptr;
  std::vector<Outgoing> produced;
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
  /// A copy is independent of the original, and starts as it is: the runtime gives each worker
  /// a copy of the loop's.
  Context(const Context& other);
  Context& operator=(const Context& other);
  ~Context();

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
  /// Answers the request being handled (docs/producer.md#requests-and-replies): queues `message` for
  /// the input's `reply-to` topic, named in full (no KAFKA_TOPIC_PREFIX) and judged by the
  /// produce guard, keyed as the request unless it has a key, with the request's correlation id;
  /// sent with the attempt's other outputs, once the handler succeeds. A message without a
  /// valid `reply-to` fails the attempt (PermanentError, validation_error), a reply-to the
  /// guard refuses too (reply_to_not_allowed), even if the handler catches it. In a batch
  /// handler: Batch::reply(i, ...).
  void reply(Outgoing message);
  /// The kernel's own setting `name` (KernelSpec::settings), typed: setting<int>("BATCH_SIZE"),
  /// setting<std::chrono::milliseconds>("POLL_EVERY"). An undeclared name, or a type the
  /// setting does not have, throws std::logic_error.
  template <typename T>
  T setting(std::string_view name) const {
    return kernel_values().template get<T>(name);
  }
  /// The values of the kernel's settings and the topics of its named outputs.
  const KernelValues& kernel_values() const noexcept;
  /// The kernel's own metrics, served on /metrics as `<kernel>_<name>` (kernel/metrics.hpp,
  /// docs/interop.md). Declaring is a name lookup: declare once (KernelSpec::metrics) and keep
  /// the reference. Shared by every context of the kernel, workers' included.
  Metrics& metrics();

  const std::string& kernel_name() const noexcept { return kernel_name_; }
  const std::optional<std::string>& output_topic() const noexcept { return output_topic_; }
  /// The kernel's logger (<kernel/kernel.hpp> includes spdlog's, to log with).
  spdlog::logger& log() const noexcept { return *logger_; }
  /// 1 for the first attempt, 2 for the first retry, ...
  int attempt() const noexcept { return attempt_->number; }
  /// When this call must have returned (KERNEL_HANDLER_TIMEOUT); nullopt without a deadline.
  /// Bound your own I/O with it: the runtime cannot interrupt a call, it can only treat one
  /// that returns late as a transient failure (`timeout`) and discard its outputs.
  const std::optional<std::chrono::steady_clock::time_point>& deadline() const noexcept { return attempt_->deadline; }

  /// What this attempt produced so far (the runtime and tests read it).
  const std::vector<Outgoing>& produced() const noexcept { return attempt_->produced; }
  /// The message being handled (nullptr outside a handler call).
  const Message* input() const noexcept { return attempt_->input; }
  /// The W3C trace context of the message being handled on this thread: the input's trace id
  /// (or a new one), this handling's span id, the flags; traceparent() for a call the handler
  /// makes. Empty outside a handler call and in a batch handler (docs/interop.md).
  const TraceContext& trace() const noexcept;

  /// The runtime's part of this context, which it reaches through detail::ContextAccess. Its
  /// type is incomplete outside the runtime: a handler can do nothing with it.
  detail::ContextState& runtime_state() noexcept { return *state_; }
  const detail::ContextState& runtime_state() const noexcept { return *state_; }

 private:
  std::string kernel_name_;
  std::optional<std::string> output_topic_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<detail::ContextState> state_;  // made with the Context: nothing per message
  detail::AttemptFields* attempt_;               // in *state_, for the accessors above to read inline
};

}  // namespace kernel
