// Decoding a message into a row of the orders table: what is stored, and what is refused
// before the database sees it.
#include <doctest/doctest.h>

#include <string>

#include <kernel/testing.hpp>

#include "order_row.hpp"

namespace order_row_test {

using kernel::testing::make_message;
using kernel::testing::make_raw_message;

kernel::FailureReason refusal_reason(const kernel::Message& message) {
  try {
    (void)postgres_sink::order_row(message);
  } catch (const kernel::PermanentError& error) {
    return error.reason();
  }
  FAIL("the message was not refused");
  return kernel::FailureReason::processing_error;
}

TEST_CASE("an order becomes a row keyed on the message's event-id") {
  const auto message = make_message({{"id", "o-1"}, {"customer", "c-9"}, {"amount", 12.5}}, "o-1",
                                    {{"event-id", "ev-1"}}, "orders", 2, 41);
  const auto row = postgres_sink::order_row(message);
  CHECK(row.event_id == "ev-1");
  CHECK(row.order_id == "o-1");
  CHECK(row.customer == "c-9");
  CHECK(row.amount == "12.5");
  CHECK(row.source == "orders[2]@41");
}

TEST_CASE("an amount keeps the digits it was written with") {
  SUBCASE("a whole number") {
    CHECK(postgres_sink::order_row(make_message({{"id", "o"}, {"customer", "c"}, {"amount", 1299}})).amount == "1299");
  }
  SUBCASE("two decimals") {
    CHECK(postgres_sink::order_row(make_message({{"id", "o"}, {"customer", "c"}, {"amount", 0.1}})).amount == "0.1");
  }
}

TEST_CASE("a message without an event-id is keyed on where it was read") {
  const auto row = postgres_sink::order_row(
      make_message({{"id", "o-1"}, {"customer", "c"}, {"amount", 1}}, "o-1", {}, "orders", 0, 7));
  CHECK(row.event_id == "orders[0]@7");
}

TEST_CASE("a value that is not JSON is a deserialization error") {
  CHECK(refusal_reason(make_raw_message("not json")) == kernel::FailureReason::deserialization_error);
}

TEST_CASE("a missing or mistyped field is a validation error naming it") {
  CHECK_THROWS_WITH_AS(postgres_sink::order_row(make_message({{"id", "o-1"}, {"customer", "c"}})),
                       doctest::Contains("field \"amount\": missing"), kernel::PermanentError);
  CHECK_THROWS_WITH_AS(postgres_sink::order_row(make_message({{"id", "o-1"}, {"customer", "c"}, {"amount", "12"}})),
                       doctest::Contains("field \"amount\": expected number, got string"), kernel::PermanentError);
  CHECK(refusal_reason(make_message({{"id", 1}, {"customer", "c"}, {"amount", 1}})) ==
        kernel::FailureReason::validation_error);
}

TEST_CASE("an empty or oversized id is refused before the database sees it") {
  CHECK_THROWS_WITH_AS(postgres_sink::order_row(make_message({{"id", ""}, {"customer", "c"}, {"amount", 1}})),
                       "field \"id\": empty", kernel::PermanentError);
  CHECK_THROWS_WITH_AS(
      postgres_sink::order_row(make_message({{"id", "o"}, {"customer", std::string(65, 'c')}, {"amount", 1}})),
      "field \"customer\": 65 characters, at most 64", kernel::PermanentError);
  CHECK_THROWS_WITH_AS(postgres_sink::order_row(make_message({{"id", "o"}, {"customer", "c"}, {"amount", 1}}, "o",
                                                             {{"event-id", std::string(129, 'e')}})),
                       "header event-id: 129 characters, at most 128", kernel::PermanentError);
}

}  // namespace order_row_test
