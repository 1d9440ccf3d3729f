#pragma once
/// Error classes a handler throws (or returns as an Outcome) to tell the runtime what to do.
///
///  TransientError  retried in place with backoff, then dead-lettered (`retries_exhausted`)
///  PermanentError  dead-lettered at once
///  BusinessError   logged, counted, committed; never dead-lettered
///  FatalError      the kernel stops, commits what completed, exits 1
///
/// nlohmann::json's exceptions (a field missing or of the wrong type) are permanent
/// validation_errors with a readable message (`field "id": missing`, `expected string, got number`). Any other
/// exception is classified by its type, then by its message (see classify_exception()); docs/failure-handling.md lists
/// the rules.
#include <array>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace kernel {

/// What became of a handled message, which is also the class of the error that caused it: one
/// concept. Outcome::Kind and ErrorClass are this type; an error's class is never `success`.
enum class OutcomeKind { success, transient, permanent, business, fatal };
using ErrorClass = OutcomeKind;

/// Why a message was dead-lettered: the `dlq-failure-reason` header.
enum class FailureReason {
  deserialization_error,
  validation_error,
  processing_error,
  retries_exhausted,
  output_failed,
  timeout,
  topic_not_allowed,  ///< the produce guard refused a topic (docs/pipelines.md)
  /// the reply rule (KERNEL_REPLY_TOPICS) refused a request's reply-to topic (docs/producer.md)
  reply_to_not_allowed,
  schema_not_found,             ///< the schema registry has no schema with the value's id (docs/interop.md)
  wrong_magic_byte,             ///< a value read through the schema registry does not start with the byte 0
  truncated_payload,            ///< a value ends inside the wire format's schema id or message index
  schema_mismatch,              ///< the registry's schema is not the one the handler reads (type or message)
  schema_registry_unavailable,  ///< the registry did not answer; transient, so a prefix of retries_exhausted
};

/// Every FailureReason, in declaration order (kernel-admin dlq --reason takes their names). A
/// reason added to the enum belongs here too: errors.cpp fails to compile until it is.
inline constexpr std::array all_failure_reasons = {
    FailureReason::deserialization_error,
    FailureReason::validation_error,
    FailureReason::processing_error,
    FailureReason::retries_exhausted,
    FailureReason::output_failed,
    FailureReason::timeout,
    FailureReason::topic_not_allowed,
    FailureReason::reply_to_not_allowed,  // request/reply (docs/producer.md)
    FailureReason::schema_not_found,
    FailureReason::wrong_magic_byte,
    FailureReason::truncated_payload,
    FailureReason::schema_mismatch,
    FailureReason::schema_registry_unavailable,
};

/// success, transient, permanent, business, fatal (`dlq-error-class` uses the two in between).
std::string_view to_string(OutcomeKind kind) noexcept;
std::string_view to_string(FailureReason reason) noexcept;

/// Base of the four error classes; carries the class and the dead-letter reason.
class KernelError : public std::runtime_error {
 public:
  KernelError(ErrorClass error_class, FailureReason reason, const std::string& message)
      : std::runtime_error(message), error_class_(error_class), reason_(reason) {}
  ErrorClass error_class() const noexcept { return error_class_; }
  FailureReason reason() const noexcept { return reason_; }

 private:
  ErrorClass error_class_;
  FailureReason reason_;
};

/// A passing failure (a dependency is down, a timeout): retried with backoff. When retries run
/// out, the dead letter's `dlq-failure-reason` is `retries_exhausted`, and a reason other than
/// the default prefixes `dlq-error-message`: `TransientError("inventory took 5 s",
/// FailureReason::timeout)` gives `timeout: inventory took 5 s`.
class TransientError : public KernelError {
 public:
  explicit TransientError(const std::string& message, FailureReason reason = FailureReason::processing_error)
      : KernelError(ErrorClass::transient, reason, message) {}

  /// Asks for this delay before the next attempt instead of the policy's backoff (a rate
  /// limit's Retry-After): `throw kernel::TransientError("429").retry_after(30s);`. Capped at
  /// KERNEL_RETRY_BACKOFF_MAX; ignored with retry topics, whose delays are fixed per topic.
  TransientError&& retry_after(std::chrono::milliseconds delay) && {
    retry_after_ = delay;
    return std::move(*this);
  }
  TransientError& retry_after(std::chrono::milliseconds delay) & {
    retry_after_ = delay;
    return *this;
  }
  /// The delay asked for, if any.
  std::optional<std::chrono::milliseconds> requested_delay() const noexcept { return retry_after_; }

 private:
  std::optional<std::chrono::milliseconds> retry_after_;
};

/// A failure that retrying cannot fix (bad payload, unknown entity): dead-lettered at once.
class PermanentError : public KernelError {
 public:
  explicit PermanentError(const std::string& message, FailureReason reason = FailureReason::processing_error)
      : KernelError(ErrorClass::permanent, reason, message) {}
};

/// An expected business outcome (order already shipped): logged, counted, committed.
class BusinessError : public KernelError {
 public:
  explicit BusinessError(const std::string& message)
      : KernelError(ErrorClass::business, FailureReason::processing_error, message) {}
};

/// The kernel cannot go on (corrupt state, lost credentials): stop, commit what completed, exit 1.
class FatalError : public KernelError {
 public:
  explicit FatalError(const std::string& message)
      : KernelError(ErrorClass::fatal, FailureReason::processing_error, message) {}
};

/// Plain exception types (not KernelError) that a kernel declares transient, beyond the
/// built-in rules of classify_exception(). Listed in KernelSpec::transient_errors:
///
///   spec.transient_errors.add<pqxx::broken_connection>();
class TransientTypes {
 public:
  /// Exceptions of type E, or of a type derived from it, are transient.
  template <class E>
  TransientTypes& add() {
    static_assert(std::is_base_of_v<std::exception, E>, "a transient type derives from std::exception");
    matchers_.push_back([](const std::exception& error) noexcept { return dynamic_cast<const E*>(&error) != nullptr; });
    return *this;
  }
  /// Whether `error` is of one of the types added.
  bool contains(const std::exception& error) const noexcept;

 private:
  std::vector<bool (*)(const std::exception&) noexcept> matchers_;
};

/// How the runtime classifies an exception that is not a KernelError, first by type, then by
/// message: a std::system_error with a network errno (ECONNREFUSED, ECONNRESET, ETIMEDOUT,
/// ENETUNREACH, EPIPE, EAGAIN) or of a type in `registered` is transient; else
/// classify_message() decides.
ErrorClass classify_exception(const std::exception& error, const TransientTypes& registered = {}) noexcept;

/// Classifies a plain message: transient when it contains, as whole words and in any case,
/// `connection refused`, `connection reset`, `timeout`, `timed out`, `deadline exceeded`,
/// `network is unreachable`, `broken pipe`, `i/o timeout` or `temporary failure`; anything
/// else is permanent (`timeouts` or `disconnection refused` are not those words).
ErrorClass classify_message(std::string_view message) noexcept;

/// The readable dynamic type name of an exception (`std::out_of_range`, `kernel::PermanentError`,
/// `nlohmann::json::type_error`): demangled, without inline ABI namespaces and tags.
std::string exception_type_name(const std::exception& error);

namespace detail {
/// A nlohmann::json exception's what() made readable: `[json.exception.out_of_range.403] key
/// 'id' not found` becomes `field "id": missing`, `type must be string, but is number` becomes
/// `expected string, got number`, prefixed with the field when the message has its path (only
/// code built with JSON_DIAGNOSTICS, which kernel::runtime is not, puts it there).
std::string describe_json_error(std::string_view what);
}  // namespace detail

}  // namespace kernel
