#pragma once
#include <string>

#include <kernel/kernel.hpp>

namespace postgres_sink {

/// One row of the orders table (schema.sql), decoded from one message.
struct OrderRow {
  /// The message's `event-id` header, the table's key: a message delivered again (after a crash,
  /// a rebalance, a replay) finds its row instead of adding one. Without the header, where the
  /// record was read (`orders[2]@41`), which a redelivery keeps too.
  std::string event_id;
  std::string order_id;
  std::string customer;
  std::string amount;  ///< the JSON number as written, which numeric(12, 2) reads without rounding
  std::string source;  ///< the record it came from: `orders[2]@41`
};

/// The longest id, customer and event id accepted: unknown input is bounded before it is stored.
inline constexpr std::size_t max_field_length = 64;
inline constexpr std::size_t max_event_id_length = 128;

/// Decodes `{"id": "o-1", "customer": "c-9", "amount": 12.5}`. A value that is not JSON throws
/// kernel::PermanentError (deserialization_error); a field missing, of the wrong type, empty or
/// too long throws kernel::PermanentError (validation_error) naming it.
OrderRow order_row(const kernel::Message& message);

}  // namespace postgres_sink
