#include "enrich.hpp"

#include <chrono>
#include <string>

namespace http_enricher {

void enrich_order(const kernel::Message& message, kernel::Context& context, CustomerClient& customers) {
  auto order = message.json();  // not JSON: dead-lettered as deserialization_error
  if (!order.is_object() || !order.contains("customer") || !order["customer"].is_string()) {
    throw kernel::PermanentError("an order is a JSON object with a string \"customer\"",
                                 kernel::FailureReason::validation_error);
  }

  auto deadline = std::chrono::steady_clock::now() + context.setting<std::chrono::milliseconds>("REQUEST_TIMEOUT");
  if (context.deadline() && *context.deadline() < deadline) deadline = *context.deadline();
  const auto correlation_id = message.header("correlation-id").value_or(message.header("event-id").value_or(""));

  order["customer_details"] =
      customers.customer(context.setting<std::string>("SERVICE_URL"), order["customer"].get<std::string>(), deadline,
                         std::string(correlation_id));
  context.produce(kernel::Outgoing{}.key(message.key()).json(order).event_type("order.enriched"));
}

}  // namespace http_enricher
