#pragma once
// The configuration's check of a kernel's choice of handlers (KernelDefaults::handler_choice),
// also run by a loop built without the configuration (loop/handler_choice.hpp).
#include <string>
#include <string_view>
#include <vector>

#include "kernel/config.hpp"

namespace kernel {

/// What is wrong with a kernel's choice of handlers, one `config error: kernel NAME ...` line
/// each (exit 78); empty when it sets what it must.
std::vector<std::string> handler_choice_problems(std::string_view kernel_name, const HandlerChoice& choice);

}  // namespace kernel
