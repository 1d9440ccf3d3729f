// Runs the kernel its spec declares (src/kernel_spec.cpp). Everything else is configuration
// (.env.template); the logic is in handler.cpp.
#include <kernel/kernel.hpp>

#include "kernel_spec.hpp"

int main(int argc, char** argv) { return kernel::run(order_auditor::kernel_spec(), argc, argv); }
