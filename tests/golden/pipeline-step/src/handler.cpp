// The handler: it maps each JSON message to a new document on the output topic, keeping its key.
#include "handler.hpp"

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

namespace order_router {

namespace {

/// The fields this kernel reads. A message whose JSON lacks one is dead-lettered as a
/// validation_error; fields it does not name are ignored.
struct Event {
  std::string id;
  std::string account;
  double amount = 0.0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Event, id, account, amount)

}  // namespace

void handle(const kernel::Message& message, kernel::Context& context) {
  // Not JSON: dead-lettered (deserialization_error). Missing fields: validation_error.
  const auto event = message.as<Event>();
  if (event.amount < 0) {
    throw kernel::PermanentError("amount is negative: " + std::to_string(event.amount),
                                 kernel::FailureReason::validation_error);
  }

  // The output document: replace this mapping with your own.
  const nlohmann::json document{
      {"id", event.id},
      {"account", event.account},
      {"amount_cents", std::llround(event.amount * 100)},
  };

  // To the output topic, with the input's key so that per-key order carries over. The
  // runtime adds the standard headers (event-id, correlation-id, causation-id, ...).
  context.produce(kernel::Outgoing{}.key(message.key()).json(document).event_type("order-router.transformed"));
}

}  // namespace order_router
