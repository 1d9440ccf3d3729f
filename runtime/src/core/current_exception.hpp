#pragma once
// What the places that call a kernel's own code (the handler chain, batch handlers,
// kernel::testing::call) make of whatever it threw: one rule for all of them.
#include "kernel/outcome.hpp"

namespace kernel::detail {

/// Inside a catch block: the Outcome of the exception in flight, as Outcome::from_exception()
/// with the kernel's `transient` types; one of no std::exception type is a permanent failure.
Outcome outcome_of_current_exception(const TransientTypes& transient = {}) noexcept;

}  // namespace kernel::detail
