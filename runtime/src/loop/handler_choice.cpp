#include "loop/handler_choice.hpp"

#include <algorithm>

#include "config/handler_choice.hpp"
#include "kernel/middleware.hpp"

namespace kernel::detail {

HandlerChoice handler_choice_of(const KernelSpec& spec) {
  return {.handler = static_cast<bool>(spec.handler),
          .batch_handler = static_cast<bool>(spec.batch_handler),
          .consumer_middleware =
              std::any_of(spec.middleware.begin(), spec.middleware.end(),
                          [](const ConsumerMiddleware& layer) { return !middleware::is_metrics(layer); })};
}

std::vector<std::string> handler_choice_problems(const KernelSpec& spec) {
  return kernel::handler_choice_problems(spec.name, handler_choice_of(spec));
}

}  // namespace kernel::detail
