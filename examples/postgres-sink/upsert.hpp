#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace postgres_sink {

/// Values bound per row: event_id, order_id, customer, amount, source.
inline constexpr std::size_t upsert_columns = 5;
/// The most rows one statement carries: PostgreSQL binds at most 65,535 parameters. A batch
/// larger than this (KERNEL_BATCH_SIZE above 1,000) is written by several statements in one
/// transaction.
inline constexpr std::size_t max_rows_per_statement = 1000;

/// The multi-row upsert of `rows` rows (1 to max_rows_per_statement, else std::invalid_argument):
/// `INSERT INTO orders (...) VALUES ($1, ..., $5), ... ON CONFLICT (event_id) DO UPDATE SET
/// deliveries = orders.deliveries + 1`. A row whose event is already stored is counted again,
/// not added: the sink is idempotent, so at-least-once delivery stores each order once.
std::string upsert_statement(std::size_t rows);

/// What a failed statement means for the batch, by the class of its SQLSTATE (its first two
/// characters; PostgreSQL's "Appendix A. Error Codes").
enum class SqlFailure {
  /// 08 connection, 40 transaction rollback (serialization, deadlock), 53 insufficient
  /// resources, 57 operator intervention (shutdown, statement timeout), 58 system error: the
  /// database, not the data; the whole batch is retried.
  transient,
  /// 22 data exception, 23 integrity constraint violation: one row's data; that row alone fails.
  row,
  /// Anything else (42 undefined table or no privilege, 3F no schema, ...): the statement or the
  /// schema is wrong, and every batch would fail alike.
  fatal,
};
SqlFailure classify_sqlstate(std::string_view sqlstate);

}  // namespace postgres_sink
