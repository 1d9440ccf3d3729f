#include "kernel/handler.hpp"

#include "core/context_access.hpp"
#include "core/current_exception.hpp"
#include "core/trace_context.hpp"

namespace kernel {

Outcome invoke_handler(const Handler& handler, const Message& message, Context& context,
                       const TransientTypes& transient) noexcept {
  try {
    return handler(message, context);
  } catch (...) {
    return detail::outcome_of_current_exception(transient);
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
        return detail::outcome_of_current_exception(*transient);
      }
    };
  }
}

Outcome Chain::operator()(const Message& message, Context& context) const noexcept {
  // Producer middleware sees the input through the context.
  const auto* previous = context.input();
  detail::ContextAccess::set_input(context, &message);
  const detail::TraceScope trace(message);  // the loop's already, or derived here (a test's call)
  Outcome outcome;
  try {
    outcome = entry_(message, context);
  } catch (...) {
    outcome = detail::outcome_of_current_exception(*transient_);
  }
  detail::ContextAccess::set_input(context, previous);
  return outcome;
}

}  // namespace kernel
