// as<T>() names the field a conversion failed on, although nlohmann's own messages (without
// JSON_DIAGNOSTICS) do not say where.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/handler.hpp"
#include "kernel/testing.hpp"

namespace json_fields_test {

namespace {

struct Customer {
  std::string zip;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Customer, zip)

struct Item {
  int qty = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Item, qty)

struct Order {
  int id = 0;
  std::string note;
  std::string channel;
  Customer customer;
  std::vector<Item> items;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Order, id, note, channel, customer, items)

nlohmann::json good_order() {
  return {{"id", 1},
          {"note", "n"},
          {"channel", "web"},
          {"customer", {{"zip", "1000"}}},
          {"items", {{{"qty", 1}}, {{"qty", 2}}}}};
}

std::string error_of(const nlohmann::json& value) {
  try {
    (void)kernel::testing::make_message(value).as<Order>();
  } catch (const kernel::PermanentError& error) {
    CHECK(error.reason() == kernel::FailureReason::validation_error);
    return error.what();
  }
  return "converted";
}

}  // namespace

TEST_CASE("as<T>() names the field of the wrong type, however deep") {
  CHECK(error_of(good_order()) == "converted");
  auto order = good_order();
  order["id"] = "seven";
  CHECK(error_of(order) == "field \"id\": expected number, got string");

  order = good_order();
  order["customer"]["zip"] = 1000;
  CHECK(error_of(order) == "field \"customer.zip\": expected string, got number");

  order = good_order();
  order["items"][1]["qty"] = "two";
  CHECK(error_of(order) == "field \"items[1].qty\": expected number, got string");
}

TEST_CASE("as<T>() names every field that fails the same way, and only those") {
  auto order = good_order();
  order["note"] = 5;
  order["channel"] = 6;
  order["extra"] = 7;  // a number too, but not a field of Order
  CHECK(error_of(order) == "fields \"note\", \"channel\": expected string, got number");
}

TEST_CASE("as<T>() names a nested field that is missing") {
  auto order = good_order();
  order["customer"].erase("zip");
  CHECK(error_of(order) == "field \"customer.zip\": missing");
  order = good_order();
  order.erase("note");
  CHECK(error_of(order) == "field \"note\": missing");
}

TEST_CASE("as<T>() on a value of the wrong kind altogether says what was expected") {
  try {
    (void)kernel::testing::make_message(nlohmann::json(5)).as<std::string>();
    FAIL("converted");
  } catch (const kernel::PermanentError& error) {
    CHECK(std::string(error.what()) == "expected string, got number");
  }
}

TEST_CASE("a handler's as<T>() failure reaches the dead letter as a validation_error naming the field") {
  kernel::testing::TestContext context;
  auto order = good_order();
  order["customer"]["zip"] = 1000;
  auto message = kernel::testing::make_message(order);
  auto outcome = kernel::testing::call(
      kernel::Handler([](const kernel::Message& m, kernel::Context&) { (void)m.as<Order>(); }), message, context);
  CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  CHECK(outcome.reason == kernel::FailureReason::validation_error);
  CHECK(outcome.message == "field \"customer.zip\": expected string, got number");
}

TEST_CASE("a document too large to search still gets a readable message, without the field") {
  auto order = good_order();
  order["items"] = nlohmann::json::array();
  for (int i = 0; i < 6000; ++i) order["items"].push_back({{"qty", i}});
  order["items"][5999]["qty"] = "many";
  CHECK(error_of(order) == "expected number, got string");
  order["items"] = {{{"qty", 1}}, {{"qty", "many"}}};
  CHECK(error_of(order) == "field \"items[1].qty\": expected number, got string");
}

}  // namespace json_fields_test
