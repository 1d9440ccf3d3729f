#include "enricher.hpp"

namespace example {

void enrich_order(const kernel::Message& message, kernel::Context& context) {
  auto order = message.json();  // not JSON: dead-lettered as deserialization_error
  if (!order.is_object()) {
    throw kernel::PermanentError("an order must be a JSON object", kernel::FailureReason::validation_error);
  }
  const auto amount = order.value("amount", 0.0);
  order["enriched_by"] = context.kernel_name();
  order["priority"] = amount >= 100.0 ? "high" : "normal";

  context.produce(kernel::Outgoing{}.key(message.key()).json(order).event_type("order.enriched"));
}

}  // namespace example
