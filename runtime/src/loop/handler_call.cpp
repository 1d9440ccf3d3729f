// KERNEL_HANDLER_TIMEOUT: the handler's deadline. C++ cannot stop a thread safely, so the
// deadline is advisory for the call (context.deadline() lets the handler bound its own I/O);
// a call that returns past it is a transient failure with reason `timeout` and its outputs
// are discarded; a call still running at min(3x the deadline, the rebalance timeout) fails
// /healthz (OpsState::stuck_call), so the orchestrator restarts the process.
#include "loop/handler_call.hpp"

#include <fmt/format.h>

#include "core/context_access.hpp"
#include "loop/partition_state.hpp"
#include "ops/ops_state.hpp"

namespace kernel::detail {

Outcome HandlerCall::operator()(const PartitionState& partition, Message& message, Context& context,
                                std::size_t slot) const {
  if (!timeout_) return chain_(message, context);
  const auto timeout = *timeout_;
  const auto started = Clock::now();
  ContextAccess::set_deadline(context, started + timeout);
  // /healthz watches every call, the loop's and each worker's, each in its thread's slot.
  if (ops_) ops_->call_started(slot, started, partition.topic, partition.partition, message.offset());
  struct CallEnd {
    OpsState* watched;
    std::size_t slot;
    Context& context;
    ~CallEnd() {
      if (watched) watched->call_ended(slot);
      ContextAccess::set_deadline(context, std::nullopt);
    }
  } end{ops_, slot, context};
  Outcome outcome = chain_(message, context);
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  if (took <= timeout || outcome.kind == Outcome::Kind::fatal) return outcome;
  // Only a success sends outputs: turning it into a failure discards them.
  outcome = Outcome::transient(fmt::format("the handler returned after {} ms, past KERNEL_HANDLER_TIMEOUT ({} ms); "
                                           "its outputs were discarded",
                                           took.count(), timeout.count()),
                               std::string(handler_timeout_type));
  outcome.reason = FailureReason::timeout;
  return outcome;
}

}  // namespace kernel::detail
