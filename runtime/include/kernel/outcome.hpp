#pragma once
/// The result of handling one message, as a value. Handlers may return one, or return void
/// and throw; the runtime turns exceptions into Outcomes before middleware sees them.
#include <chrono>
#include <optional>
#include <string>

#include "kernel/errors.hpp"

namespace kernel {

struct Outcome {
  using Kind = OutcomeKind;  ///< the same type as ErrorClass (errors.hpp)

  Kind kind = Kind::success;
  FailureReason reason = FailureReason::processing_error;
  std::string error_type;  ///< exception type name, for `dlq-error-type`
  std::string message;     ///< for `dlq-error-message` and logs
  /// A transient outcome's own delay before the next attempt (TransientError::retry_after()).
  std::optional<std::chrono::milliseconds> retry_after = {};

  static Outcome success() { return {}; }
  static Outcome transient(std::string message, std::string type = "kernel::TransientError") {
    return {Kind::transient, FailureReason::processing_error, std::move(type), std::move(message), std::nullopt};
  }
  static Outcome permanent(std::string message, FailureReason reason = FailureReason::processing_error,
                           std::string type = "kernel::PermanentError") {
    return {Kind::permanent, reason, std::move(type), std::move(message), std::nullopt};
  }
  static Outcome business(std::string message) {
    return {Kind::business, FailureReason::processing_error, "kernel::BusinessError", std::move(message), std::nullopt};
  }
  static Outcome fatal(std::string message) {
    return {Kind::fatal, FailureReason::processing_error, "kernel::FatalError", std::move(message), std::nullopt};
  }
  /// The Outcome an exception stands for (KernelError by its class, others by
  /// classify_exception() with the kernel's `transient` types).
  static Outcome from_exception(const std::exception& error, const TransientTypes& transient = {});

  bool ok() const noexcept { return kind == Kind::success; }
};

}  // namespace kernel
