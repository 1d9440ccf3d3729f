#pragma once
/// The handler (one function per kernel) and the middleware chain around it.
///
/// A handler is any callable `(const Message&, Context&)` returning void or Outcome.
/// Consumer middleware is `(const Message&, Context&, const Next&) -> Outcome`; it runs in the
/// order added, sees the outcome (exceptions arrive already turned into an Outcome), and may
/// enrich, measure, filter or short-circuit by not calling next.
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernel/context.hpp"
#include "kernel/message.hpp"
#include "kernel/outcome.hpp"

namespace kernel {

using Next = std::function<Outcome(const Message&, Context&)>;
using ConsumerMiddleware = std::function<Outcome(const Message&, Context&, const Next&)>;

class Handler {
 public:
  Handler() = default;
  template <class F>
  requires std::is_invocable_v<F&, const Message&, Context&> Handler(
      F function) {  // NOLINT: implicit on purpose, so a lambda is a Handler
    using Result = std::invoke_result_t<F&, const Message&, Context&>;
    if constexpr (std::is_void_v<Result>) {
      function_ = [f = std::move(function)](const Message& message, Context& context) mutable {
        f(message, context);
        return Outcome::success();
      };
    } else {
      static_assert(std::is_convertible_v<Result, Outcome>, "a handler returns void or Outcome");
      function_ = std::move(function);
    }
  }
  explicit operator bool() const noexcept { return static_cast<bool>(function_); }
  /// Calls the handler; exceptions propagate.
  Outcome operator()(const Message& message, Context& context) const { return function_(message, context); }

 private:
  Next function_;
};

/// Calls a handler and turns any exception into an Outcome (`transient`: the kernel's own
/// transient exception types, KernelSpec::transient_errors).
Outcome invoke_handler(const Handler& handler, const Message& message, Context& context,
                       const TransientTypes& transient = {}) noexcept;

/// The handler wrapped in its middleware, built once and called per message.
class Chain {
 public:
  Chain(Handler handler, std::vector<ConsumerMiddleware> middleware, TransientTypes transient = {});
  /// Never throws: an exception anywhere in the chain becomes the Outcome it stands for.
  Outcome operator()(const Message& message, Context& context) const noexcept;

 private:
  std::shared_ptr<const TransientTypes> transient_;  // shared by the layers' closures
  Next entry_;
};

}  // namespace kernel
