#pragma once
/// Middleware: cross-cutting behaviour around the handler and around each produce, added in
/// a kernel's main.cpp in the order it runs (outermost first):
///
///   spec.middleware = {kernel::middleware::correlation(), kernel::middleware::logging()};
///   spec.producer_middleware = {[](kernel::Outgoing& out, const kernel::Message& in,
///                                  kernel::Context& ctx, const kernel::NextProduce& next) {
///     out.header("tenant", std::string(in.header("tenant").value_or("default")));
///     next(out, in, ctx);
///   }};
///
/// Consumer middleware (`ConsumerMiddleware`, handler.hpp) sees the Outcome, exceptions
/// included, and may enrich, measure, filter or short-circuit by not calling next. Producer
/// middleware (`ProducerMiddleware`, context.hpp) wraps each Context::produce() and may
/// change the message or drop it by not calling next.
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "kernel/context.hpp"
#include "kernel/handler.hpp"

namespace kernel::middleware {

/// One line per message at debug (topic, partition, offset, outcome, duration) and one per
/// failed attempt at warn. Costs two clock reads per message when debug is off.
ConsumerMiddleware logging();

/// Puts the input's `correlation-id` header into the log context for the call, so every
/// JSON log line written while handling it carries `correlation_id`.
ConsumerMiddleware correlation();

/// Records kernel_handler_duration_seconds for each attempt. The runtime adds it as the
/// outermost middleware whenever metrics are on (KERNEL_HTTP_PORT not `off`); list it yourself
/// to choose what it times, e.g. after a middleware that filters messages out. In a kernel,
/// kernel_messages_handled_total is counted by the loop from what it did with the attempt
/// (retried, held by the circuit breaker, dead-lettered...); without one (a TestContext) this
/// layer counts it from the attempt number. Does nothing when metrics are off.
ConsumerMiddleware metrics();

/// True if `layer` is the one metrics() returns.
bool is_metrics(const ConsumerMiddleware& layer) noexcept;

/// What deduplicate() remembers and how it names a message.
struct DeduplicateOptions {
  /// The id of a message, or nullopt (or "") to let it through unchecked. Unset: the input's
  /// `event-id` header. Called on the thread that handles the message.
  std::function<std::optional<std::string>(const Message&)> key = {};
  /// How many completed ids, and for how long each; unset: KERNEL_DEDUP_WINDOW's part.
  std::optional<std::size_t> count = {};
  std::optional<std::chrono::milliseconds> age = {};
  /// The clock ages are measured with; unset: std::chrono::steady_clock. For tests.
  std::function<std::chrono::steady_clock::time_point()> clock = {};
};

/// Drops an input whose id (the `event-id` header, or `options.key`'s value) was completed
/// within the window: the handler succeeded or returned a business error for it. A failed
/// attempt marks nothing, so its retry goes through. A dropped input is handled successfully
/// (committed, nothing produced), counted in kernel_messages_deduplicated_total{topic} and
/// logged at debug; one without an id passes. Opt-in, and only within this process: see
/// docs/duplicates-and-formats.md for what it cannot catch. Place it after metrics() and
/// logging(), before middleware that has effects. Thread-safe; O(1) per message, memory
/// bounded by the window (KERNEL_DEDUP_WINDOW, default 10000 ids for 10 minutes). Throws
/// std::invalid_argument for a count of 0 or an age not above 0.
ConsumerMiddleware deduplicate(DeduplicateOptions options = {});

/// One debug line per produced message (topic, key, size).
ProducerMiddleware log_produced();

}  // namespace kernel::middleware
