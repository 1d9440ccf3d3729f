#include "validate_order.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <vector>

namespace pipeline_example {
namespace {

struct Item {
  std::string sku;
  int qty = 0;
  double price = 0;
};

struct Order {
  std::string id;
  std::string customer;
  std::string country;
  std::vector<Item> items;
  bool express = false;
};

void from_json(const nlohmann::json& document, Item& item) {
  document.at("sku").get_to(item.sku);
  document.at("qty").get_to(item.qty);
  document.at("price").get_to(item.price);
}

void to_json(nlohmann::json& document, const Item& item) {
  document = {{"sku", item.sku}, {"qty", item.qty}, {"price", item.price}};
}

void from_json(const nlohmann::json& document, Order& order) {
  document.at("id").get_to(order.id);
  document.at("customer").get_to(order.customer);
  document.at("country").get_to(order.country);
  document.at("items").get_to(order.items);
  order.express = document.value("express", false);
}

/// Where the shop ships: the countries order-pricer has a tax rate for.
constexpr std::array<std::string_view, 3> served_countries = {"DE", "FR", "NL"};

[[noreturn]] void refuse(const std::string& why) {
  throw kernel::PermanentError(why, kernel::FailureReason::validation_error);
}

}  // namespace

void validate_order(const kernel::Message& message, kernel::Context& context) {
  auto order = message.as<Order>();
  if (order.id.empty() || order.id.size() > 64) refuse("field \"id\": expected 1 to 64 characters");
  if (order.items.empty() || order.items.size() > 100) refuse("field \"items\": expected 1 to 100 items");
  for (const auto& item : order.items) {
    // Bounded, so that order-pricer's sums in cents cannot overflow.
    if (item.qty < 1 || item.qty > 10'000) {
      refuse("item " + item.sku + ": quantity " + std::to_string(item.qty) + ", expected 1 to 10000");
    }
    if (!(item.price >= 0 && item.price <= 1'000'000)) refuse("item " + item.sku + ": price out of 0 to 1000000");
  }
  std::transform(order.country.begin(), order.country.end(), order.country.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (std::find(served_countries.begin(), served_countries.end(), order.country) == served_countries.end()) {
    // A valid order the shop turns down: not a failure to retry or repair, an answer.
    throw kernel::BusinessError("we do not ship to " + order.country);
  }

  const nlohmann::json valid = {{"id", order.id},
                                {"customer", order.customer},
                                {"country", order.country},
                                {"items", order.items},
                                {"express", order.express}};
  context.produce(kernel::Outgoing{}.key(order.id).json(valid).event_type("order.validated"));
}

}  // namespace pipeline_example
