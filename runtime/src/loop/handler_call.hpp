#pragma once
// KERNEL_HANDLER_TIMEOUT around one call through the middleware chain (handler_call.cpp): the
// inline executor and each worker make their calls through it.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

#include "kernel/context.hpp"
#include "kernel/handler.hpp"
#include "kernel/message.hpp"
#include "kernel/outcome.hpp"

namespace kernel::detail {

class OpsState;
struct PartitionState;

/// The error type of the outcome made of a call that returned past its deadline.
inline constexpr std::string_view handler_timeout_type = "kernel::HandlerTimeout";

/// The outcome a timed call made of a call that returned past its deadline (dead-lettered,
/// once out of retries, as `timeout`; a handler's own TransientError stays `retries_exhausted`).
inline bool handler_timed_out(const Outcome& outcome) noexcept {
  return outcome.reason == FailureReason::timeout && outcome.error_type == handler_timeout_type;
}

/// The call through the chain, timed against KERNEL_HANDLER_TIMEOUT.
class HandlerCall {
 public:
  /// `chain` must outlive the call object; `ops` is null when KERNEL_HTTP_PORT is off.
  HandlerCall(const Chain& chain, std::optional<std::chrono::milliseconds> timeout, OpsState* ops) noexcept
      : chain_(chain), timeout_(timeout), ops_(ops) {}

  /// /healthz watches the call in OpsState's slot `slot` (0 the loop, 1 + n worker n).
  Outcome operator()(const PartitionState& partition, Message& message, Context& context, std::size_t slot = 0) const;

 private:
  const Chain& chain_;
  std::optional<std::chrono::milliseconds> timeout_;
  OpsState* ops_;
};

}  // namespace kernel::detail
