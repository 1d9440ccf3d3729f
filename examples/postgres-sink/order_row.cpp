#include "order_row.hpp"

#include <string_view>

namespace postgres_sink {
namespace {

/// The document as sent; as<OrderDocument>() names the field that does not fit.
struct OrderDocument {
  std::string id;
  std::string customer;
  std::string amount;
};

void from_json(const nlohmann::json& document, OrderDocument& order) {
  document.at("id").get_to(order.id);
  document.at("customer").get_to(order.customer);
  const auto& amount = document.at("amount");
  (void)amount.get<double>();  // a number, or a type error naming the field
  order.amount = amount.dump();
}

void check_length(std::string_view what, const std::string& value, std::size_t limit) {
  if (value.empty())
    throw kernel::PermanentError(std::string(what) + ": empty", kernel::FailureReason::validation_error);
  if (value.size() > limit) {
    throw kernel::PermanentError(
        std::string(what) + ": " + std::to_string(value.size()) + " characters, at most " + std::to_string(limit),
        kernel::FailureReason::validation_error);
  }
}

}  // namespace

OrderRow order_row(const kernel::Message& message) {
  auto document = message.as<OrderDocument>();
  check_length("field \"id\"", document.id, max_field_length);
  check_length("field \"customer\"", document.customer, max_field_length);

  OrderRow row;
  row.source = std::string(message.topic()) + "[" + std::to_string(message.partition()) + "]@" +
               std::to_string(message.offset());
  if (const auto event_id = message.header("event-id")) {
    row.event_id = std::string(*event_id);
    check_length("header event-id", row.event_id, max_event_id_length);
  } else {
    row.event_id = row.source;
  }
  row.order_id = std::move(document.id);
  row.customer = std::move(document.customer);
  row.amount = std::move(document.amount);
  return row;
}

}  // namespace postgres_sink
