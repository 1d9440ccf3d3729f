#pragma once
// Which handler a kernel runs, as the configuration checks it (kernel::handler_choice_problems,
// with the settings, at start and by --print-config): `handler` or `batch_handler`, exactly
// one, and no consumer middleware around a batch_handler.
#include <string>
#include <vector>

#include "kernel/config.hpp"
#include "kernel/spec.hpp"

namespace kernel::detail {

/// What `spec` sets, for KernelDefaults::handler_choice.
HandlerChoice handler_choice_of(const KernelSpec& spec);

/// One line per problem (`config error: ...`, as configuration errors read; exit 78); empty
/// when the spec sets what it must. For a loop built without the configuration's check.
std::vector<std::string> handler_choice_problems(const KernelSpec& spec);

}  // namespace kernel::detail
