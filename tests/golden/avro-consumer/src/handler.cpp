// The handler: it reads shop.Order values (schemas/order.avsc, avro in the
// schema registry's framing).
#include "handler.hpp"

#include <atomic>

#include <nlohmann/json.hpp>

namespace order_auditor {

namespace {

// Relaxed: a statistic, not a synchronisation point.
std::atomic<std::uint64_t> handled{0};

}  // namespace

void handle(const kernel::Message& message, kernel::Context& context) {
  // The record of schemas/order.avsc as a JSON document: a value that is not framed Avro is
  // dead-lettered with its reason (docs/message-spec.md).
  const nlohmann::json value = message.avro();

  // Replace this with what the kernel is for: store the record, call a service, ...
  const auto count = handled.fetch_add(1, std::memory_order_relaxed) + 1;
  context.log().info("shop.Order {} ({}[{}]@{}, {} handled)", value.dump(), message.topic(),
                     message.partition(), message.offset(), count);
}

std::uint64_t handled_count() noexcept { return handled.load(std::memory_order_relaxed); }

}  // namespace order_auditor
