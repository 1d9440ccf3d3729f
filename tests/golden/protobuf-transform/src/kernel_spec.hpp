#pragma once
/// The kernel's spec (src/kernel_spec.cpp): what main() runs and what the tests build on.
#include <kernel/kernel.hpp>

namespace order_mapper {

/// Name, topics, settings, named outputs and handler, as the kernel runs with them.
kernel::KernelSpec kernel_spec();

}  // namespace order_mapper
