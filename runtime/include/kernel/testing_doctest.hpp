#pragma once
/// kernel::testing for doctest tests: a handler call that must succeed, and says why it did not.
/// `REQUIRE(outcome.ok())` fails with `false` alone; these fail at the caller's line with the
/// outcome's class, reason and message:
///
///   const auto outcome = kernel::testing::call_ok(handle, make_message({{"id", 1}}), context);
///   // the handler's outcome is not ok: permanent (processing_error) std::logic_error: no
///   // setting HIGH_PRIORITY_AMOUNT is declared in the kernel's spec ...
///
/// Include it after <doctest/doctest.h>; the runtime itself does not depend on doctest.
#include <source_location>
#include <string>

#include <doctest/doctest.h>

#include "kernel/testing.hpp"

namespace kernel::testing {

/// Returns `outcome`; when it is not ok, fails the current test at `where` (REQUIRE: the test
/// stops) with describe(outcome).
inline const Outcome& require_ok(const Outcome& outcome,
                                 const std::source_location& where = std::source_location::current()) {
  if (!outcome.ok()) {
    // Parenthesised: the macro streams its argument with operator*, which binds before +.
    DOCTEST_ADD_FAIL_AT(where.file_name(), static_cast<int>(where.line()),
                        (std::string("the handler's outcome is not ok: ") + describe(outcome)));
  }
  return outcome;
}

/// call(handler, message, context), required to succeed (require_ok()).
inline Outcome call_ok(const Handler& handler, const Message& message, Context& context,
                       const std::source_location& where = std::source_location::current()) {
  return require_ok(call(handler, message, context), where);
}

/// call(batch_handler, batch, context), required to succeed as a whole (require_ok()); each
/// message's own outcome stays in batch.outcome(i).
inline Outcome call_ok(const BatchHandler& handler, Batch& batch, Context& context,
                       const std::source_location& where = std::source_location::current()) {
  return require_ok(call(handler, batch, context), where);
}

}  // namespace kernel::testing
