// The built-in middleware: logging, correlation, metrics, and logging of produced messages.
#include <chrono>

#include "core/context_access.hpp"
#include "core/trace_context.hpp"
#include "kernel/message.hpp"
#include "kernel/middleware.hpp"
#include "log/logging.hpp"
#include "ops/kernel_metrics.hpp"

namespace kernel::middleware {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) noexcept {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Counted once per input (its first attempt), logged at debug only: a producer that sends
/// malformed trace context would otherwise flood the log.
void malformed_trace(const Message& message, Context& context, detail::KernelMetrics& metrics) {
  metrics.trace_context_invalid().Increment();
  auto& log = context.log();
  if (log.should_log(spdlog::level::debug)) {
    log.debug("{}[{}]@{}: malformed traceparent or tracestate replaced (a new trace, or the state dropped)",
              message.topic(), message.partition(), message.offset());
  }
}

/// A named type, so the runtime can tell whether a kernel placed it itself.
struct MetricsLayer {
  Outcome operator()(const Message& message, Context& context, const Next& next) const {
    auto* metrics = detail::ContextAccess::metrics(context);
    if (!metrics) return next(message, context);
    auto& topic = metrics->input_topic_cached(message.topic());
    if (detail::current_trace().handling.malformed && context.attempt() == 1) {
      malformed_trace(message, context, *metrics);
    }
    const auto start = Clock::now();
    Outcome outcome = next(message, context);
    topic.duration->Observe(seconds_since(start));
    if (metrics->loop_counts_outcomes()) return outcome;  // the loop knows what became of it
    if (auto counted = detail::handled_outcome(outcome.kind, context.attempt(), metrics->max_retries())) {
      topic.count(*counted);
    }
    return outcome;
  }
};

/// Clears the correlation id even when the chain throws.
struct CorrelationScope {
  detail::LogScope& scope;
  ~CorrelationScope() { scope.correlation_id.clear(); }  // keeps its capacity: no allocation next time
};

}  // namespace

ConsumerMiddleware logging() {
  return [](const Message& message, Context& context, const Next& next) {
    const auto start = Clock::now();
    Outcome outcome = next(message, context);
    auto& log = context.log();
    if (!outcome.ok()) {
      log.warn("{} at {}[{}]@{} after {:.3f} ms (attempt {}): {}: {}", to_string(outcome.kind), message.topic(),
               message.partition(), message.offset(), seconds_since(start) * 1e3, context.attempt(), outcome.error_type,
               outcome.message);
    } else if (log.should_log(spdlog::level::debug)) {
      log.debug("handled {}[{}]@{} in {:.3f} ms (attempt {}): success, {} produced", message.topic(),
                message.partition(), message.offset(), seconds_since(start) * 1e3, context.attempt(),
                context.produced().size());
    }
    return outcome;
  };
}

ConsumerMiddleware correlation() {
  return [](const Message& message, Context& context, const Next& next) {
    auto id = message.header("correlation-id");
    if (!id || id->empty()) return next(message, context);
    auto& scope = detail::current_log_scope();
    scope.correlation_id.assign(id->data(), id->size());
    CorrelationScope clear{scope};
    return next(message, context);
  };
}

ConsumerMiddleware metrics() { return MetricsLayer{}; }

bool is_metrics(const ConsumerMiddleware& layer) noexcept { return layer.target<MetricsLayer>() != nullptr; }

ProducerMiddleware log_produced() {
  return [](Outgoing& output, const Message& input, Context& context, const NextProduce& next) {
    auto& log = context.log();
    if (log.should_log(spdlog::level::debug)) {
      log.debug("producing to {} (key {}, {} bytes) for {}[{}]@{}",
                output.topic().empty() ? context.output_topic().value_or("?") : output.topic(),
                output.key().value_or("null"), output.value().size(), input.topic(), input.partition(), input.offset());
    }
    next(output, input, context);  // takes the message: log first
  };
}

}  // namespace kernel::middleware
