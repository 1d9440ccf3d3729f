#pragma once
// What a KernelSpec gives the configuration: its name, topics, whether it runs a batch_handler
// and the settings its code sets (the retry policy), as the text a user would write, so the
// environment can override each.
#include "kernel/config.hpp"
#include "kernel/spec.hpp"

namespace kernel::detail {

KernelDefaults defaults_of(const KernelSpec& spec);

}  // namespace kernel::detail
