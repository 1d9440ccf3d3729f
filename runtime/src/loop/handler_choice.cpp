#include "loop/handler_choice.hpp"

#include <algorithm>

#include "kernel/middleware.hpp"

namespace kernel::detail {

std::vector<std::string> handler_choice_problems(const KernelSpec& spec) {
  std::vector<std::string> problems;
  const bool single = static_cast<bool>(spec.handler);
  const bool batch = static_cast<bool>(spec.batch_handler);
  if (single && batch) {
    problems.push_back("config error: kernel " + spec.name +
                       " sets both KernelSpec::handler and KernelSpec::batch_handler; set exactly one of them");
  } else if (!single && !batch) {
    problems.push_back("config error: kernel " + spec.name +
                       " sets neither KernelSpec::handler nor KernelSpec::batch_handler; set exactly one of them");
  }
  if (!batch) return problems;
  // Consumer middleware wraps one message's call; a batch call has no single message.
  const bool middleware = std::any_of(spec.middleware.begin(), spec.middleware.end(),
                                      [](const ConsumerMiddleware& layer) { return !middleware::is_metrics(layer); });
  if (middleware) {
    problems.push_back("config error: kernel " + spec.name +
                       " has consumer middleware, which does not wrap batch_handler calls; remove "
                       "KernelSpec::middleware (producer middleware is fine)");
  }
  return problems;
}

}  // namespace kernel::detail
