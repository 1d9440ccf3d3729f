// The handler: it reads shop.Order values (schemas/order.proto, protobuf in the
// schema registry's framing).
#include "handler.hpp"

#include "order.pb.h"

namespace order_mapper {

void handle(const kernel::Message& message, kernel::Context& context) {
  // The generated type of schemas/order.proto, checked against the writer's schema in the
  // registry: a value that is not a framed shop.Order is dead-lettered with its reason
  // (wrong_magic_byte, schema_mismatch, ...: docs/message-spec.md).
  auto value = message.protobuf<shop::Order>();
  // A value with every field at its default carries nothing to forward.
  if (value.ByteSizeLong() == 0) {
    throw kernel::PermanentError("an empty shop.Order: every field is at its default",
                                 kernel::FailureReason::validation_error);
  }

  // The output: the same shop.Order, re-encoded under the output topic's subject
  // (<topic>-value, registered on first use). Change its fields here (value.set_...(...)), or
  // build another message type of schemas/.
  context.produce(kernel::Outgoing{}.key(message.key()).protobuf(value).event_type("order-mapper.transformed"));
}

}  // namespace order_mapper
