#include "kernel/context.hpp"

#include "kernel/errors.hpp"
#include "kernel/message.hpp"

namespace kernel {

Context::Context(std::string kernel_name, std::optional<std::string> output_topic,
                 std::shared_ptr<spdlog::logger> logger)
    : kernel_name_(std::move(kernel_name)), output_topic_(std::move(output_topic)), logger_(std::move(logger)) {}

void Context::produce(Outgoing message) {
  if (!produce_chain_) {
    queue(message);
    return;
  }
  if (input_) {
    produce_chain_(message, *input_, *this);
  } else {
    // produce() called outside a handler call (a hand-built test): middleware still runs.
    static const Message no_input("", 0, -1, std::nullopt, "");
    produce_chain_(message, no_input, *this);
  }
}

void Context::produce_to(std::string_view output, Outgoing message) {
  std::string topic;
  try {
    topic = kernel_values().output_topic(output);
  } catch (const std::logic_error& error) {
    refuse(std::string("produce_to(): ") + error.what(), FailureReason::processing_error);
  }
  message.topic(std::move(topic));
  produce(std::move(message));
}

const KernelValues& Context::kernel_values() const noexcept {
  static const KernelValues none;
  return kernel_values_ ? *kernel_values_ : none;
}

void Context::queue(Outgoing& message) {
  if (message.topic().empty() && !output_topic_) {
    throw PermanentError(
        "produce() without a topic, and this kernel has no output topic: pass .topic(...) or "
        "set KAFKA_OUTPUT_TOPIC");
  }
  // The guard judges the topic as the handler asks for it, when it asks (the default output
  // is always the kernel's own); a refusal fails the whole attempt.
  if (topic_check_ && !message.topic().empty()) {
    if (auto why = topic_check_(message.topic()); !why.empty()) {
      refuse("produce to " + message.topic() + " refused: " + why, FailureReason::topic_not_allowed);
    }
  }
  produced_.push_back(std::move(message));
}

void Context::refuse(std::string message, FailureReason reason) {
  if (produce_refusal_.message.empty()) produce_refusal_ = {message, reason};
  throw PermanentError(message, reason);
}

void Context::set_producer_middleware(std::vector<ProducerMiddleware> middleware) {
  if (middleware.empty()) {
    produce_chain_ = nullptr;
    return;
  }
  // Built once, from the innermost outwards so middleware[0] runs first; no allocation per
  // message.
  NextProduce chain = [](Outgoing& message, const Message&, Context& context) { context.queue(message); };
  for (auto it = middleware.rbegin(); it != middleware.rend(); ++it) {
    chain = [layer = std::move(*it), next = std::move(chain)](
                Outgoing& message, const Message& input, Context& context) { layer(message, input, context, next); };
  }
  produce_chain_ = std::move(chain);
}

}  // namespace kernel
