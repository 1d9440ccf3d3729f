#include "kernel/handler.hpp"

namespace kernel {

std::string_view to_string(Outcome::Kind kind) noexcept {
  switch (kind) {
    case Outcome::Kind::success: return "success";
    case Outcome::Kind::transient: return "transient";
    case Outcome::Kind::permanent: return "permanent";
    case Outcome::Kind::business: return "business";
    case Outcome::Kind::fatal: return "fatal";
  }
  return "permanent";
}

// No JSON_DIAGNOSTICS (a field path in every error): it changes json's ABI for every kernel TU, trips GCC 12 -Warray-bounds and nlohmann 3.11.2 Debug asserts.
namespace {
/// nlohmann::json's exceptions, known by their type's namespace and their message's prefix
/// rather than their C++ type, which depends on the JSON_DIAGNOSTICS setting of the thrower.
bool is_json_exception(const std::string& type_name, std::string_view what) {
  return type_name.starts_with("nlohmann::") && what.starts_with("[json.exception.");
}
}  // namespace

Outcome Outcome::from_exception(const std::exception& error) {
  Outcome outcome;
  outcome.error_type = exception_type_name(error);
  outcome.message = error.what();
  if (is_json_exception(outcome.error_type, outcome.message)) {
    // A field missing or of the wrong type; a parse error (or a number beyond a double) from
    // JSON the handler parsed itself is the payload's fault too.
    const bool parsing = outcome.message.starts_with("[json.exception.parse_error.") ||
                         outcome.message.starts_with("[json.exception.out_of_range.406]");
    outcome.kind = Kind::permanent;
    outcome.reason = parsing ? FailureReason::deserialization_error : FailureReason::validation_error;
    outcome.message = detail::describe_json_error(outcome.message);
    return outcome;
  }
  if (const auto* kernel_error = dynamic_cast<const KernelError*>(&error)) {
    outcome.reason = kernel_error->reason();
    switch (kernel_error->error_class()) {
      case ErrorClass::transient:
        outcome.kind = Kind::transient;
        // Once retries run out the dead letter's reason is retries_exhausted: the message
        // keeps why it was retried.
        if (outcome.reason != FailureReason::processing_error) {
          outcome.message = std::string(to_string(outcome.reason)) + ": " + outcome.message;
        }
        break;
      case ErrorClass::permanent: outcome.kind = Kind::permanent; break;
      case ErrorClass::business: outcome.kind = Kind::business; break;
      case ErrorClass::fatal: outcome.kind = Kind::fatal; break;
    }
    return outcome;
  }
  outcome.reason = FailureReason::processing_error;
  outcome.kind = classify_message(outcome.message) == ErrorClass::transient ? Kind::transient
                                                                           : Kind::permanent;
  return outcome;
}

namespace {
Outcome outcome_of_current_exception() noexcept {
  try {
    throw;
  } catch (const std::exception& error) {
    return Outcome::from_exception(error);
  } catch (...) {
    return Outcome::permanent("unknown exception (not derived from std::exception)",
                              FailureReason::processing_error, "unknown");
  }
}
}  // namespace

Outcome invoke_handler(const Handler& handler, const Message& message, Context& context) noexcept {
  try {
    return handler(message, context);
  } catch (...) {
    return outcome_of_current_exception();
  }
}

Chain::Chain(Handler handler, std::vector<ConsumerMiddleware> middleware) {
  entry_ = [handler = std::move(handler)](const Message& message, Context& context) {
    return invoke_handler(handler, message, context);
  };
  // Wrap from the innermost outwards so middleware[0] runs first.
  for (auto it = middleware.rbegin(); it != middleware.rend(); ++it) {
    entry_ = [layer = std::move(*it), next = std::move(entry_)](const Message& message,
                                                                  Context& context) {
      try {
        return layer(message, context, next);
      } catch (...) {
        return outcome_of_current_exception();
      }
    };
  }
}

Outcome Chain::operator()(const Message& message, Context& context) const noexcept {
  // Producer middleware sees the input through the context.
  const auto* previous = context.input();
  context.set_input(&message);
  Outcome outcome;
  try {
    outcome = entry_(message, context);
  } catch (...) {
    outcome = outcome_of_current_exception();
  }
  context.set_input(previous);
  return outcome;
}

}  // namespace kernel
