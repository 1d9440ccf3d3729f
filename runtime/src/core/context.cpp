#include "kernel/context.hpp"

#include "config/settings.hpp"  // Settings().metrics_max_series: its default, by value
#include "core/context_state.hpp"
#include "core/trace_context.hpp"
#include "kernel/config.hpp"
#include "kernel/errors.hpp"
#include "kernel/message.hpp"
#include "kernel/metrics.hpp"
#include "schema/output_registration.hpp"
#include "schema/protobuf_codec.hpp"

namespace kernel {

namespace {

/// The end of every producer chain: keeps the message for the runtime to send if the attempt
/// succeeds.
void queue(Context& context, Outgoing& message) {
  auto& state = context.runtime_state();
  if (message.topic().empty() && !context.output_topic()) {
    throw PermanentError(
        "produce() without a topic, and this kernel has no output topic: pass .topic(...) or "
        "set KAFKA_OUTPUT_TOPIC");
  }
  // The guard judges the topic as the handler asks for it, when it asks (the default output
  // is always the kernel's own); a refusal fails the whole attempt.
  const auto& check = message.topic_is_exact() ? state.exact_topic_check : state.topic_check;
  if (check && !message.topic().empty()) {
    if (auto why = check(message.topic()); !why.empty()) {
      state.refuse("produce to " + message.topic() + " refused: " + why, FailureReason::topic_not_allowed);
    }
  }
  // Outgoing::protobuf() left the schema id to write: the subject depends on the topic, final here.
  try {
    if (message.unregistered_protobuf() != nullptr) schema::register_protobuf_output(message, context.output_topic());
    if (!message.unregistered_avro().empty()) schema::register_avro_output(message, context.output_topic());
  } catch (const KernelError& error) {
    // As a refused topic: the attempt fails even if the handler catches this, or its output
    // would be lost and its input committed.
    if (state.produce_refusal.message.empty()) {
      state.produce_refusal = {error.what(), error.reason(), error.error_class() == ErrorClass::transient};
    }
    throw;
  }
  state.attempt.produced.push_back(std::move(message));
}

}  // namespace

Context::Context(std::string kernel_name, std::optional<std::string> output_topic,
                 std::shared_ptr<spdlog::logger> logger)
    : kernel_name_(std::move(kernel_name)),
      output_topic_(std::move(output_topic)),
      logger_(std::move(logger)),
      state_(std::make_unique<detail::ContextState>()),
      attempt_(&state_->attempt) {}

Context::Context(const Context& other)
    : kernel_name_(other.kernel_name_),
      output_topic_(other.output_topic_),
      logger_(other.logger_),
      state_(std::make_unique<detail::ContextState>(*other.state_)),
      attempt_(&state_->attempt) {}

Context& Context::operator=(const Context& other) {
  if (this != &other) {
    kernel_name_ = other.kernel_name_;
    output_topic_ = other.output_topic_;
    logger_ = other.logger_;
    *state_ = *other.state_;  // attempt_ keeps pointing into this context's own state
  }
  return *this;
}

Context::~Context() = default;

const TraceContext& Context::trace() const noexcept { return detail::current_trace().handling.trace; }

void Context::produce(Outgoing message) {
  auto& state = *state_;
  if (!state.produce_chain) {
    queue(*this, message);
    return;
  }
  if (attempt_->input) {
    state.produce_chain(message, *attempt_->input, *this);
  } else {
    // produce() called outside a handler call (a hand-built test): middleware still runs.
    static const Message no_input("", 0, -1, std::nullopt, "");
    state.produce_chain(message, no_input, *this);
  }
}

void Context::produce_to(std::string_view output, Outgoing message) {
  std::string topic;
  try {
    topic = kernel_values().output_topic(output);
  } catch (const std::logic_error& error) {
    state_->refuse(std::string("produce_to(): ") + error.what(), FailureReason::processing_error);
  }
  message.topic(std::move(topic));
  produce(std::move(message));
}

const KernelValues& Context::kernel_values() const noexcept {
  static const KernelValues none;
  return state_->kernel_values ? *state_->kernel_values : none;
}

Metrics& Context::metrics() {
  if (!state_->own_metrics) {
    // A context the runtime did not set up (a test's): a registry of its own, not served, bound
    // as KERNEL_METRICS_MAX_SERIES' default bounds it.
    state_->own_metrics =
        std::make_shared<Metrics>(kernel_name_, static_cast<std::size_t>(Settings().metrics_max_series), logger_);
  }
  return *state_->own_metrics;
}

namespace detail {

Outcome ProduceRefusal::outcome() const {
  if (transient) return Outcome::from_exception(TransientError(message, reason));
  return Outcome::permanent(message, reason);
}

void ContextState::refuse(std::string message, FailureReason reason) {
  if (produce_refusal.message.empty()) produce_refusal = {message, reason};
  throw PermanentError(message, reason);
}

void ContextState::set_producer_middleware(std::vector<ProducerMiddleware> middleware) {
  if (middleware.empty()) {
    produce_chain = nullptr;
    return;
  }
  // Built once, from the innermost outwards so middleware[0] runs first; no allocation per
  // message.
  NextProduce chain = [](Outgoing& message, const Message&, Context& context) { queue(context, message); };
  for (auto it = middleware.rbegin(); it != middleware.rend(); ++it) {
    chain = [layer = std::move(*it), next = std::move(chain)](
                Outgoing& message, const Message& input, Context& context) { layer(message, input, context, next); };
  }
  produce_chain = std::move(chain);
}

}  // namespace detail

}  // namespace kernel
