#include "upsert.hpp"

#include <stdexcept>

namespace postgres_sink {

std::string upsert_statement(std::size_t rows) {
  if (rows == 0 || rows > max_rows_per_statement) {
    throw std::invalid_argument("upsert_statement: " + std::to_string(rows) + " rows; expected 1 to " +
                                std::to_string(max_rows_per_statement));
  }
  std::string statement = "INSERT INTO orders (event_id, order_id, customer, amount, source) VALUES ";
  std::size_t parameter = 1;
  for (std::size_t row = 0; row < rows; ++row) {
    statement += row == 0 ? "(" : ", (";
    for (std::size_t column = 0; column < upsert_columns; ++column) {
      if (column > 0) statement += ", ";
      statement += "$" + std::to_string(parameter++);
    }
    statement += ")";
  }
  return statement + " ON CONFLICT (event_id) DO UPDATE SET deliveries = orders.deliveries + 1";
}

SqlFailure classify_sqlstate(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return SqlFailure::fatal;
  const auto group = sqlstate.substr(0, 2);
  if (group == "08" || group == "40" || group == "53" || group == "57" || group == "58") return SqlFailure::transient;
  if (group == "22" || group == "23") return SqlFailure::row;
  return SqlFailure::fatal;
}

}  // namespace postgres_sink
