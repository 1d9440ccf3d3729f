#include "kernel/outcome.hpp"

#include <string>

#include "core/current_exception.hpp"

namespace kernel {

// No JSON_DIAGNOSTICS (a field path in every error): it changes json's ABI for every kernel TU, trips GCC 12
// -Warray-bounds and nlohmann 3.11.2 Debug asserts.
namespace {
/// nlohmann::json's exceptions, known by their type's namespace and their message's prefix
/// rather than their C++ type, which depends on the JSON_DIAGNOSTICS setting of the thrower.
bool is_json_exception(const std::string& type_name, std::string_view what) {
  return type_name.starts_with("nlohmann::") && what.starts_with("[json.exception.");
}
}  // namespace

Outcome Outcome::from_exception(const std::exception& error, const TransientTypes& transient) {
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
    outcome.kind = kernel_error->error_class();
    if (const auto* transient_error = dynamic_cast<const TransientError*>(kernel_error)) {
      outcome.retry_after = transient_error->requested_delay();
    }
    // Once retries run out the dead letter's reason is retries_exhausted: the message keeps
    // why it was retried.
    if (outcome.kind == Kind::transient && outcome.reason != FailureReason::processing_error) {
      outcome.message = std::string(to_string(outcome.reason)) + ": " + outcome.message;
    }
    return outcome;
  }
  outcome.reason = FailureReason::processing_error;
  outcome.kind = classify_exception(error, transient) == ErrorClass::transient ? Kind::transient : Kind::permanent;
  return outcome;
}

namespace detail {

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

}  // namespace detail

}  // namespace kernel
