// The handler: it consumes messages, logs and counts them; produces nothing.
#include "handler.hpp"

#include <atomic>
#include <string>

#include <nlohmann/json.hpp>

namespace audit_log {

namespace {

/// The fields this kernel reads. A message whose JSON lacks one is dead-lettered as a
/// validation_error; fields it does not name are ignored.
struct Event {
  std::string id;
  std::string account;
  double amount = 0.0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Event, id, account, amount)

// Relaxed: a statistic, not a synchronisation point.
std::atomic<std::uint64_t> handled{0};

}  // namespace

void handle(const kernel::Message& message, kernel::Context& context) {
  // Not JSON: dead-lettered (deserialization_error). Missing fields: validation_error.
  const auto event = message.as<Event>();

  // Replace this with what the kernel is for: store the event, call a service, ...
  const auto count = handled.fetch_add(1, std::memory_order_relaxed) + 1;
  context.log().info("event {} from account {}: amount {:.2f} ({}[{}]@{}, {} handled)", event.id,
                     event.account, event.amount, message.topic(), message.partition(),
                     message.offset(), count);
}

std::uint64_t handled_count() noexcept { return handled.load(std::memory_order_relaxed); }

}  // namespace audit_log
