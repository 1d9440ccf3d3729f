#include "loop/handler_choice.hpp"

#include <algorithm>

#include "kernel/middleware.hpp"

namespace kernel::detail {

std::vector<std::string> handler_choice_problems(const KernelSpec& spec, const Settings& settings) {
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
  // Batches are called on the loop thread, one at a time: workers would sit idle.
  if (settings.concurrency > 1) {
    problems.push_back("config error: KERNEL_CONCURRENCY=\"" + std::to_string(settings.concurrency) +
                       "\": a batch_handler is called one batch at a time on the loop thread; unset "
                       "KERNEL_CONCURRENCY (or set it to 1) for a batch kernel");
  }
  // A batch is collected within the partition's in-flight cap.
  if (settings.batch_size > settings.max_poll_records) {
    problems.push_back("config error: KERNEL_BATCH_SIZE=\"" + std::to_string(settings.batch_size) +
                       "\": must not exceed KAFKA_MAX_POLL_RECORDS (" + std::to_string(settings.max_poll_records) +
                       "); lower KERNEL_BATCH_SIZE or raise KAFKA_MAX_POLL_RECORDS");
  }
  return problems;
}

}  // namespace kernel::detail
