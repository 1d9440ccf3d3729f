#pragma once
#include <kernel/kernel.hpp>

namespace example {

/// Adds `enriched_by` (the kernel's name) and `priority` (high from an amount of 100) to each
/// order and forwards it with the input's key.
void enrich_order(const kernel::Message& message, kernel::Context& context);

}  // namespace example
