// The statement one batch is written with, and what a failed statement means.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "upsert.hpp"

namespace upsert_test {

using postgres_sink::SqlFailure;

TEST_CASE("one statement carries every row, keyed on the event id") {
  CHECK(postgres_sink::upsert_statement(2) ==
        "INSERT INTO orders (event_id, order_id, customer, amount, source) VALUES "
        "($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10) "
        "ON CONFLICT (event_id) DO UPDATE SET deliveries = orders.deliveries + 1");
}

TEST_CASE("a statement has between one row and as many as PostgreSQL can bind") {
  CHECK_THROWS_AS((void)postgres_sink::upsert_statement(0), std::invalid_argument);
  CHECK_NOTHROW((void)postgres_sink::upsert_statement(postgres_sink::max_rows_per_statement));
  CHECK_THROWS_AS((void)postgres_sink::upsert_statement(postgres_sink::max_rows_per_statement + 1),
                  std::invalid_argument);
  CHECK(postgres_sink::max_rows_per_statement * postgres_sink::upsert_columns <= 65535);
}

TEST_CASE("a failed statement is classified by its SQLSTATE's class") {
  struct Case {
    const char* sqlstate;
    SqlFailure expected;
    const char* what;
  };
  const Case cases[] = {
      {"08006", SqlFailure::transient, "connection failure"},
      {"40001", SqlFailure::transient, "serialization failure"},
      {"40P01", SqlFailure::transient, "deadlock"},
      {"53300", SqlFailure::transient, "too many connections"},
      {"57P01", SqlFailure::transient, "the server is shutting down"},
      {"57014", SqlFailure::transient, "statement timeout"},
      {"58030", SqlFailure::transient, "I/O error"},
      {"23505", SqlFailure::row, "unique violation"},
      {"23514", SqlFailure::row, "check violation"},
      {"22003", SqlFailure::row, "numeric value out of range"},
      {"42P01", SqlFailure::fatal, "undefined table"},
      {"42501", SqlFailure::fatal, "insufficient privilege"},
      {"3F000", SqlFailure::fatal, "invalid schema name"},
      {"", SqlFailure::fatal, "no SQLSTATE"},
      {"X", SqlFailure::fatal, "a malformed SQLSTATE"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CHECK(postgres_sink::classify_sqlstate(c.sqlstate) == c.expected);
  }
}

}  // namespace upsert_test
