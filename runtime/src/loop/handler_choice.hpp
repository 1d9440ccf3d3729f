#pragma once
// Which handler a kernel runs: `handler` or `batch_handler`, exactly one, and what a batch
// kernel's configuration must satisfy. Checked at start, before anything connects.
#include <string>
#include <vector>

#include "kernel/config.hpp"
#include "kernel/spec.hpp"

namespace kernel::detail {

/// One line per problem (`config error: ...`, as configuration errors read; exit 78); empty
/// when the spec can run with these settings.
std::vector<std::string> handler_choice_problems(const KernelSpec& spec, const Settings& settings);

}  // namespace kernel::detail
