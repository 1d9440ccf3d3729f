#pragma once
// How the runtime gives deduplicate() layers their window: the middleware is built in a
// kernel's main() before the configuration is read, so the loop hands KERNEL_DEDUP_WINDOW to
// each layer when it builds the chain.
#include <vector>

#include "config/settings.hpp"
#include "kernel/handler.hpp"

namespace kernel::detail {

/// Gives every deduplicate() layer in `middleware` the parts of `window` its options left unset.
void configure_deduplicate(const std::vector<ConsumerMiddleware>& middleware, const DedupWindow& window);

}  // namespace kernel::detail
