#pragma once
// The call executor of a kernel without KERNEL_CONCURRENCY or a batch handler, and of a batch
// kernel's single calls (a retry topic's head, the breaker's probe: a batch of one): the
// handler runs on the loop thread, in the loop's own Context. The loop holds it directly and
// concludes what it returns, so a message costs no virtual call, std::function or allocation
// more than the call itself (call_executor.hpp has the others).
#include <chrono>
#include <optional>
#include <type_traits>

#include "core/context_access.hpp"
#include "kernel/context.hpp"
#include "kernel/handler.hpp"
#include "kernel/message.hpp"
#include "kernel/outcome.hpp"
#include "loop/handler_call.hpp"

namespace kernel::detail {

class InlineExecutor {
 public:
  /// `chain` and `context` (the loop's) must outlive the executor.
  InlineExecutor(const Chain& chain, Context& context, std::optional<std::chrono::milliseconds> timeout,
                 OpsState* ops) noexcept
      : call_(chain, timeout, ops), context_(context) {}

  /// One attempt on the loop thread. What it produced and left for a completed conclusion stays
  /// in the loop's Context for conclude().
  Outcome call(const PartitionState& partition, Message& message, int attempt) {
    ContextAccess::begin_attempt(context_, attempt);
    Outcome outcome = call_(partition, message, context_);
    // A refused produce fails the attempt even when the handler caught the refusal: nothing of it is sent.
    if (const auto& refused = ContextAccess::produce_refusal(context_);
        !refused.message.empty() && outcome.kind != Outcome::Kind::fatal) {
      outcome = refused.outcome();
    }
    return outcome;
  }

 private:
  HandlerCall call_;
  Context& context_;
};

// The loop's per-message path calls it directly: a virtual function here would cost every message.
static_assert(!std::is_polymorphic_v<InlineExecutor>);

}  // namespace kernel::detail
