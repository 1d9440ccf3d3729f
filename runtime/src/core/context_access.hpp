#pragma once
// The runtime's way into a Context's plumbing, which handlers cannot call: the loop starts
// attempts and installs the producer chain and metrics, the handler chain sets the input, and
// the built-in metrics middleware finds the metrics.
#include <utility>
#include <vector>

#include "kernel/context.hpp"

namespace kernel::detail {

struct ContextAccess {
  static void begin_attempt(Context& context, int attempt) noexcept { context.begin_attempt(attempt); }
  static void set_input(Context& context, const Message* input) noexcept { context.set_input(input); }
  static void set_deadline(Context& context, std::optional<std::chrono::steady_clock::time_point> deadline) noexcept {
    context.set_deadline(deadline);
  }
  static void set_producer_middleware(Context& context, std::vector<ProducerMiddleware> middleware) {
    context.set_producer_middleware(std::move(middleware));
  }
  static KernelMetrics* metrics(const Context& context) noexcept { return context.metrics(); }
  static void set_metrics(Context& context, KernelMetrics* metrics) noexcept { context.set_metrics(metrics); }
};

}  // namespace kernel::detail
