#include "kernel/handler.hpp"

#include "core/context_access.hpp"

namespace kernel {

namespace {
Outcome outcome_of_current_exception(const TransientTypes& transient) noexcept {
  try {
    throw;
  } catch (const std::exception& error) {
    return Outcome::from_exception(error, transient);
  } catch (...) {
    return Outcome::permanent("unknown exception (not derived from std::exception)", FailureReason::processing_error,
                              "unknown");
  }
}
}  // namespace

Outcome invoke_handler(const Handler& handler, const Message& message, Context& context,
                       const TransientTypes& transient) noexcept {
  try {
    return handler(message, context);
  } catch (...) {
    return outcome_of_current_exception(transient);
  }
}

Chain::Chain(Handler handler, std::vector<ConsumerMiddleware> middleware, TransientTypes transient)
    : transient_(std::make_shared<const TransientTypes>(std::move(transient))) {
  entry_ = [handler = std::move(handler), transient = transient_](const Message& message, Context& context) {
    return invoke_handler(handler, message, context, *transient);
  };
  // Wrap from the innermost outwards so middleware[0] runs first.
  for (auto it = middleware.rbegin(); it != middleware.rend(); ++it) {
    entry_ = [layer = std::move(*it), next = std::move(entry_), transient = transient_](const Message& message,
                                                                                        Context& context) {
      try {
        return layer(message, context, next);
      } catch (...) {
        return outcome_of_current_exception(*transient);
      }
    };
  }
}

Outcome Chain::operator()(const Message& message, Context& context) const noexcept {
  // Producer middleware sees the input through the context.
  const auto* previous = context.input();
  detail::ContextAccess::set_input(context, &message);
  Outcome outcome;
  try {
    outcome = entry_(message, context);
  } catch (...) {
    outcome = outcome_of_current_exception(*transient_);
  }
  detail::ContextAccess::set_input(context, previous);
  return outcome;
}

}  // namespace kernel
