#pragma once
// The runtime's part of a Context, kept out of the public header so that a handler neither sees
// nor reaches it: the producer chain, the produce guard, the metrics, the attempt's refusal and
// the work waiting for its verdict. A Context allocates one when it is made; nothing here
// allocates per message. The runtime reaches it through detail::ContextAccess.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/completion_hook.hpp"
#include "kernel/context.hpp"
#include "kernel/errors.hpp"
#include "kernel/kernel_settings.hpp"
#include "kernel/metrics.hpp"
#include "kernel/outcome.hpp"

namespace kernel::detail {

class KernelMetrics;

/// The produce guard (docs/pipelines.md): given a topic as named in produce(), why it may not
/// be written, or "" when it may. The runtime sets it under pipeline naming or
/// KERNEL_ALLOWED_TOPICS; unset, every topic may be written.
using TopicCheck = std::function<std::string(const std::string& topic)>;

/// The first produce refused during an attempt: a topic the guard refuses (topic_not_allowed),
/// an undeclared output (processing_error), a reply without a valid reply-to (validation_error)
/// or to one the guard refuses (reply_to_not_allowed). The runtime dead-letters the input with
/// it even if the handler caught the exception, and sends nothing.
struct ProduceRefusal {
  std::string message;  ///< "" when nothing was refused
  FailureReason reason = FailureReason::topic_not_allowed;
  /// A passing failure (the schema registry did not answer when an output's schema was
  /// registered): the attempt is retried rather than dead-lettered, but it fails all the same.
  bool transient = false;
  /// What the attempt comes to.
  Outcome outcome() const;
};

struct ContextState {
  /// Starts a new attempt: forgets what the previous one produced, refused and left waiting.
  void begin_attempt(int number) noexcept {
    attempt.number = number;
    attempt.produced.clear();
    produce_refusal = {};
    on_completed.clear();
  }
  /// Producer middleware, outermost first: built into produce_chain once, here rather than per
  /// message.
  void set_producer_middleware(std::vector<ProducerMiddleware> middleware);
  /// Records `message` as the attempt's refusal (the first one counts) and throws it.
  [[noreturn]] void refuse(std::string message, FailureReason reason);

  AttemptFields attempt;      // what the Context's accessors read
  NextProduce produce_chain;  // empty without producer middleware
  KernelMetrics* metrics = nullptr;
  TopicCheck topic_check;          // empty: no guard
  TopicCheck exact_topic_check;    // the same guard for a topic named in full (a reply's reply-to)
  ProduceRefusal produce_refusal;  // the first refusal of this attempt
  /// What waits for the runtime's verdict on this attempt: run once the loop concludes it as a
  /// success or a business error, dropped when it turns out a failure (a call past its
  /// deadline, a refused produce the handler caught). deduplicate() marks its ids here.
  std::vector<CompletionHook> on_completed;
  std::shared_ptr<const KernelValues> kernel_values;  // null: the kernel declares nothing
  /// The kernel's own metrics, shared by the loop's context and the workers' copies; made on
  /// first use when the runtime set none (a test's context).
  std::shared_ptr<Metrics> own_metrics;
};

}  // namespace kernel::detail
