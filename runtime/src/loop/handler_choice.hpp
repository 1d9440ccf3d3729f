#pragma once
// Which handler a kernel runs: `handler` or `batch_handler`, exactly one, and no consumer
// middleware around a batch_handler. Checked with the configuration at start and by
// --print-config, before anything connects. What a batch kernel's settings must satisfy is the
// configuration's to check (KernelDefaults::batch_handler).
#include <string>
#include <vector>

#include "kernel/spec.hpp"

namespace kernel::detail {

/// One line per problem (`config error: ...`, as configuration errors read; exit 78); empty
/// when the spec sets what it must.
std::vector<std::string> handler_choice_problems(const KernelSpec& spec);

}  // namespace kernel::detail
