#pragma once
// The runtime's way into a Context's plumbing (its ContextState), which handlers cannot reach:
// the loop starts attempts and installs the producer chain and metrics, the handler chain sets
// the input, and the built-in metrics middleware finds the metrics.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/context_state.hpp"
#include "kernel/context.hpp"

namespace kernel::detail {

struct ContextAccess {
  static void begin_attempt(Context& context, int attempt) noexcept { context.runtime_state().begin_attempt(attempt); }
  /// The input the context is handling (null outside a handling).
  static const Message* input(const Context& context) noexcept { return context.runtime_state().attempt.input; }
  static void set_input(Context& context, const Message* input) noexcept {
    context.runtime_state().attempt.input = input;
  }
  static void set_deadline(Context& context, std::optional<std::chrono::steady_clock::time_point> deadline) noexcept {
    context.runtime_state().attempt.deadline = deadline;
  }
  static void set_producer_middleware(Context& context, std::vector<ProducerMiddleware> middleware) {
    context.runtime_state().set_producer_middleware(std::move(middleware));
  }
  static KernelMetrics* metrics(const Context& context) noexcept { return context.runtime_state().metrics; }
  static void set_metrics(Context& context, KernelMetrics* metrics) noexcept {
    context.runtime_state().metrics = metrics;
  }
  /// The kernel's own metrics (Context::metrics()), one for every context of the kernel.
  static void set_own_metrics(Context& context, std::shared_ptr<Metrics> metrics) noexcept {
    context.runtime_state().own_metrics = std::move(metrics);
  }
  static void set_kernel_values(Context& context, std::shared_ptr<const KernelValues> values) noexcept {
    context.runtime_state().kernel_values = std::move(values);
  }
  static void set_topic_check(Context& context, TopicCheck check) {
    context.runtime_state().topic_check = std::move(check);
  }
  /// The guard for topics named in full (Outgoing::exact_topic(): a reply's reply-to).
  static void set_exact_topic_check(Context& context, TopicCheck check) {
    context.runtime_state().exact_topic_check = std::move(check);
  }
  static const ProduceRefusal& produce_refusal(const Context& context) noexcept {
    return context.runtime_state().produce_refusal;
  }
  static void clear_produce_refusal(Context& context) noexcept { context.runtime_state().produce_refusal = {}; }
  /// The attempt's queued outputs, for a batch to move each to the message it belongs to.
  static std::vector<Outgoing>& produced(Context& context) noexcept { return context.runtime_state().attempt.produced; }
  /// Runs `action` only if the loop concludes this attempt as completed (a success or a
  /// business error); a failure, however it is decided, drops it.
  /// `undo` runs if the work is lost afterwards, before the input's offset is committed (its
  /// partition handed over, an exactly-once transaction aborted): it is done again then.
  static void on_completed(Context& context, std::function<void()> action, std::function<void()> undo) {
    context.runtime_state().on_completed.push_back({std::move(action), std::move(undo)});
  }
  /// The attempt's actions waiting for its conclusion (a worker's call hands them to the loop).
  static std::vector<CompletionHook>& completion_actions(Context& context) noexcept {
    return context.runtime_state().on_completed;
  }
  static std::vector<CompletionHook> take_completion_actions(Context& context) noexcept {
    return std::move(context.runtime_state().on_completed);
  }
  /// Moves out what the attempt produced (a worker's call hands its outputs back to the loop).
  static std::vector<Outgoing> take_produced(Context& context) noexcept {
    return std::move(context.runtime_state().attempt.produced);
  }
};

}  // namespace kernel::detail
