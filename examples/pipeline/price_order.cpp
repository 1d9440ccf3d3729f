#include "price_order.hpp"

#include <cmath>
#include <map>

namespace pipeline_example {
namespace {

/// VAT per country, in percent.
const std::map<std::string, std::int64_t, std::less<>> vat_percent = {{"DE", 19}, {"FR", 20}, {"NL", 21}};

/// Orders from this amount on are invoiced by the billing pipeline.
constexpr std::int64_t invoice_from_cents = 100'000;

}  // namespace

std::string euros(std::int64_t cents) {
  const auto whole = std::to_string(cents / 100);
  const auto rest = std::to_string(cents % 100);
  return whole + "." + (rest.size() == 1 ? "0" + rest : rest);
}

void price_order(const kernel::Message& message, kernel::Context& context) {
  const auto order = message.json();
  std::int64_t net = 0;
  for (const auto& item : order.at("items")) {
    // In cents from here on: money is not added up in binary fractions.
    net += item.at("qty").get<std::int64_t>() * std::llround(item.at("price").get<double>() * 100);
  }
  const auto country = order.at("country").get<std::string>();
  const auto rate = vat_percent.find(country);
  if (rate == vat_percent.end()) {
    throw kernel::PermanentError("no VAT rate for " + country, kernel::FailureReason::validation_error);
  }
  const auto tax = (net * rate->second + 50) / 100;  // rounded half up to the cent

  const nlohmann::json priced = {
      {"id", order.at("id")}, {"customer", order.at("customer")}, {"country", country}, {"net", euros(net)},
      {"tax", euros(tax)},    {"gross", euros(net + tax)},        {"currency", "EUR"}};
  const auto key = order.at("id").get<std::string>();
  context.produce(kernel::Outgoing{}.key(key).json(priced).event_type("order.priced"));
  if (net + tax >= invoice_from_cents) {
    context.produce(kernel::Outgoing{}
                        .topic(context.setting<std::string>("INVOICE_TOPIC"))
                        .key(key)
                        .json(priced)
                        .event_type("invoice.requested"));
  }
  if (order.value("express", false)) {
    context.produce(kernel::Outgoing{}
                        .topic(context.setting<std::string>("EXPRESS_TOPIC"))
                        .key(key)
                        .json({{"id", key}, {"country", country}})
                        .event_type("shipment.express"));
  }
}

}  // namespace pipeline_example
