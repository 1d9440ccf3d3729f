// deduplicate(): drops inputs whose id completed recently in this process
// (docs/duplicates-and-formats.md).
#include "middleware/deduplicate.hpp"

#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>

#include <spdlog/logger.h>

#include "core/context_access.hpp"
#include "kernel/middleware.hpp"
#include "middleware/completed_ids.hpp"
#include "ops/kernel_metrics.hpp"

namespace kernel {

namespace {

using Clock = std::chrono::steady_clock;
using middleware::DeduplicateOptions;

/// One deduplicate() layer's memory, shared by the copies of the layer (std::function copies
/// its target) and guarded for worker threads: a lookup or an insertion is all it holds the
/// lock for.
class DeduplicateState {
 public:
  explicit DeduplicateState(DeduplicateOptions options)
      : options_(std::move(options)), ids_(0, std::chrono::milliseconds(0)) {
    configure(Settings().dedup_window);  // the registry's default, until the runtime gives its own
  }

  void configure(const DedupWindow& window) {
    std::lock_guard lock(mutex_);
    ids_.set_bounds(options_.count.value_or(window.count), options_.age.value_or(window.age));
  }

  /// The message's id, or nullopt when it has none (passed through unchecked).
  std::optional<std::string> id_of(const Message& message) const {
    if (options_.key) {
      auto id = options_.key(message);
      if (id && id->empty()) return std::nullopt;
      return id;
    }
    const auto header = message.header("event-id");
    if (!header || header->empty()) return std::nullopt;
    return std::string(*header);
  }

  /// How long ago `id` completed, if within the window.
  std::optional<Clock::duration> completed_ago(const std::string& id) {
    const auto now = this->now();
    std::lock_guard lock(mutex_);
    const auto at = ids_.completed(id, now);
    if (!at) return std::nullopt;
    return now - *at;
  }

  void completed(const std::string& id) {
    const auto now = this->now();
    std::lock_guard lock(mutex_);
    ids_.add(id, now);
  }

  /// Its work was lost before it was committed: a redelivery must run again.
  void forget(const std::string& id) {
    std::lock_guard lock(mutex_);
    ids_.remove(id);
  }

 private:
  Clock::time_point now() const { return options_.clock ? options_.clock() : Clock::now(); }

  const DeduplicateOptions options_;
  std::mutex mutex_;
  detail::CompletedIds ids_;
};

/// A named type, so the runtime can find the layers to configure.
struct DeduplicateLayer {
  std::shared_ptr<DeduplicateState> state;

  Outcome operator()(const Message& message, Context& context, const Next& next) const {
    auto id = state->id_of(message);
    if (!id) return next(message, context);
    if (const auto ago = state->completed_ago(*id)) {
      if (auto* metrics = detail::ContextAccess::metrics(context)) metrics->deduplicated(message.topic()).Increment();
      auto& log = context.log();
      if (log.should_log(spdlog::level::debug)) {
        log.debug("dropped {}[{}]@{}: id {} completed {:.3f} s ago (deduplicate)", message.topic(), message.partition(),
                  message.offset(), *id, std::chrono::duration<double>(*ago).count());
      }
      return Outcome::success();
    }
    // Marked only once the loop concludes the attempt as completed (a business error is an
    // answer too): the chain's success is not the last word (a call past its deadline, a
    // refused produce the handler caught). A failure marks nothing, so its retry, or a
    // redelivery, runs again.
    detail::ContextAccess::on_completed(
        context, [state = state, id = *id] { state->completed(id); }, [state = state, id = *id] { state->forget(id); });
    return next(message, context);
  }
};

}  // namespace

namespace middleware {

ConsumerMiddleware deduplicate(DeduplicateOptions options) {
  if (options.count && *options.count == 0) {
    throw std::invalid_argument("deduplicate(): .count must be at least 1 (leave it unset for KERNEL_DEDUP_WINDOW)");
  }
  if (options.age && options.age->count() <= 0) {
    throw std::invalid_argument("deduplicate(): .age must be above 0 (leave it unset for KERNEL_DEDUP_WINDOW)");
  }
  return DeduplicateLayer{std::make_shared<DeduplicateState>(std::move(options))};
}

}  // namespace middleware

namespace detail {

void configure_deduplicate(const std::vector<ConsumerMiddleware>& middleware, const DedupWindow& window) {
  for (const auto& layer : middleware) {
    if (const auto* dedup = layer.target<DeduplicateLayer>()) dedup->state->configure(window);
  }
}

}  // namespace detail

}  // namespace kernel
