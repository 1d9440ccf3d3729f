// Step price: the amounts, and the orders handed to the billing and shipping pipelines.
#include <doctest/doctest.h>

#include <memory>

#include <kernel/testing.hpp>

#include "price_order.hpp"

namespace price_order_test {

using kernel::testing::call;
using kernel::testing::make_message;

/// A context with the step's settings at their defaults.
struct PricerContext : kernel::testing::TestContext {
  PricerContext() {
    auto values = std::make_shared<kernel::KernelValues>();
    values->set_setting("INVOICE_TOPIC", std::string("billing.invoices"));
    values->set_setting("EXPRESS_TOPIC", std::string("shipping.express"));
    set_kernel_values(values);
  }
};

nlohmann::json validated(const char* country, nlohmann::json items, bool express = false) {
  return {{"id", "o-1"}, {"customer", "c-7"}, {"country", country}, {"items", items}, {"express", express}};
}

TEST_CASE("an order is priced in cents, VAT rounded half up") {
  PricerContext context;
  const auto items =
      nlohmann::json{{{"sku", "mug"}, {"qty", 3}, {"price", 4}}, {{"sku", "tea"}, {"qty", 1}, {"price", 6.75}}};
  REQUIRE(call(pipeline_example::price_order, make_message(validated("NL", items)), context).ok());
  REQUIRE(context.produced().size() == 1);
  CHECK(context.produced()[0].topic().empty());  // the step's own output
  CHECK(nlohmann::json::parse(context.produced()[0].value()) == nlohmann::json{{"id", "o-1"},
                                                                               {"customer", "c-7"},
                                                                               {"country", "NL"},
                                                                               {"net", "18.75"},
                                                                               {"tax", "3.94"},
                                                                               {"gross", "22.69"},
                                                                               {"currency", "EUR"}});
}

TEST_CASE("an order of 1,000 EUR or more is also sent to be invoiced") {
  PricerContext context;
  const auto items = nlohmann::json{{{"sku", "laptop"}, {"qty", 1}, {"price", 1299}}};
  REQUIRE(call(pipeline_example::price_order, make_message(validated("FR", items)), context).ok());
  REQUIRE(context.produced().size() == 2);
  CHECK(context.produced()[1].topic() == "billing.invoices");
  CHECK(context.produced()[1].key() == "o-1");
}

TEST_CASE("an express order is handed to the shipping pipeline") {
  PricerContext context;
  const auto items = nlohmann::json{{{"sku", "lamp"}, {"qty", 1}, {"price", 49.9}}};
  REQUIRE(call(pipeline_example::price_order, make_message(validated("DE", items, true)), context).ok());
  REQUIRE(context.produced().size() == 2);
  CHECK(context.produced()[1].topic() == "shipping.express");
}

TEST_CASE("amounts are written with two decimals") {
  CHECK(pipeline_example::euros(0) == "0.00");
  CHECK(pipeline_example::euros(5) == "0.05");
  CHECK(pipeline_example::euros(2975) == "29.75");
  CHECK(pipeline_example::euros(129900) == "1299.00");
}

}  // namespace price_order_test
