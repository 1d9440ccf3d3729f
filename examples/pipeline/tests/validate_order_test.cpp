// Step validate: what passes on, what is dead-lettered, what is a business error.
#include <doctest/doctest.h>

#include <kernel/testing.hpp>

#include "validate_order.hpp"

namespace validate_order_test {

using kernel::testing::call;
using kernel::testing::make_message;

nlohmann::json order(nlohmann::json changes = nlohmann::json::object()) {
  nlohmann::json document = {{"id", "o-1"},
                             {"customer", "c-7"},
                             {"country", "de"},
                             {"items", {{{"sku", "book"}, {"qty", 2}, {"price", 12.5}}}}};
  document.update(changes);
  return document;
}

TEST_CASE("a valid order passes on, normalised and keyed by its id") {
  kernel::testing::TestContext context;
  REQUIRE(call(pipeline_example::validate_order, make_message(order(), "whatever"), context).ok());
  REQUIRE(context.produced().size() == 1);
  const auto& output = context.produced()[0];
  CHECK(output.key() == "o-1");
  CHECK(nlohmann::json::parse(output.value()) ==
        nlohmann::json{{"id", "o-1"},
                       {"customer", "c-7"},
                       {"country", "DE"},
                       {"items", {{{"sku", "book"}, {"qty", 2}, {"price", 12.5}}}},
                       {"express", false}});
}

TEST_CASE("an order the shop cannot take is dead-lettered as a validation error") {
  SUBCASE("no items") {
    kernel::testing::TestContext context;
    const auto outcome =
        call(pipeline_example::validate_order, make_message(order({{"items", nlohmann::json::array()}})), context);
    CHECK(outcome.kind == kernel::OutcomeKind::permanent);
    CHECK(outcome.reason == kernel::FailureReason::validation_error);
  }
  SUBCASE("a quantity of 0") {
    kernel::testing::TestContext context;
    const auto outcome = call(pipeline_example::validate_order,
                              make_message(order({{"items", {{{"sku", "b"}, {"qty", 0}, {"price", 1}}}}})), context);
    CHECK(outcome.reason == kernel::FailureReason::validation_error);
    CHECK(outcome.message == "item b: quantity 0, expected 1 to 10000");
  }
  SUBCASE("a field missing") {
    kernel::testing::TestContext context;
    auto document = order();
    document.erase("country");
    const auto outcome = call(pipeline_example::validate_order, make_message(document), context);
    CHECK(outcome.reason == kernel::FailureReason::validation_error);
    CHECK(outcome.message == "field \"country\": missing");
  }
}

TEST_CASE("a country the shop does not ship to is a business error, not a failure") {
  kernel::testing::TestContext context;
  const auto outcome = call(pipeline_example::validate_order, make_message(order({{"country", "br"}})), context);
  CHECK(outcome.kind == kernel::OutcomeKind::business);
  CHECK(outcome.message == "we do not ship to BR");
  CHECK(context.produced().empty());
}

}  // namespace validate_order_test
