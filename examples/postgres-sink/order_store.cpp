#include "order_store.hpp"

#include <algorithm>
#include <string_view>

#include <pqxx/except>
#include <pqxx/prepared_statement>
#include <pqxx/transaction>

#include <kernel/kernel.hpp>

#include "upsert.hpp"

namespace postgres_sink {
namespace {

/// PostgreSQL's message on one line, without its `ERROR:` prefix: `duplicate key value violates
/// unique constraint "orders_order_id_key" DETAIL: Key (order_id)=(o-1) already exists.`
std::string one_line(std::string_view message) {
  std::string line;
  for (const char c : message) {
    if (c == '\n' || c == '\t') {
      if (!line.empty() && line.back() != ' ') line += ' ';
    } else if (c != ' ' || (!line.empty() && line.back() != ' ')) {
      line += c;
    }
  }
  if (line.starts_with("ERROR: ")) line.erase(0, 7);
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

/// Bounds every statement of `transaction` by what is left until the handler deadline: a call
/// that returns late is a failure anyway, so the database should stop working on it too.
void bound_by(pqxx::transaction_base& transaction, OrderStore::Deadline deadline) {
  if (!deadline) return;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    throw kernel::TransientError("no time left for the database before the handler deadline",
                                 kernel::FailureReason::timeout);
  }
  transaction.exec0("SET LOCAL statement_timeout = " + std::to_string(left.count()));
}

std::vector<std::string> parameters_of(const OrderRow& row) {
  return {row.event_id, row.order_id, row.customer, row.amount, row.source};
}

/// Every row in one transaction, at most max_rows_per_statement per statement.
void write_together(pqxx::connection& connection, const std::vector<OrderRow>& rows, OrderStore::Deadline deadline) {
  pqxx::work transaction(connection);
  bound_by(transaction, deadline);
  for (std::size_t first = 0; first < rows.size(); first += max_rows_per_statement) {
    const auto count = std::min(max_rows_per_statement, rows.size() - first);
    std::vector<std::string> parameters;
    parameters.reserve(count * upsert_columns);
    for (std::size_t i = first; i < first + count; ++i) {
      for (auto& value : parameters_of(rows[i])) parameters.push_back(std::move(value));
    }
    transaction.exec_params(upsert_statement(count), pqxx::prepare::make_dynamic_params(parameters));
  }
  transaction.commit();
}

/// Each row under its own savepoint, in one transaction: the rows the database refuses are
/// rolled back alone and returned; the others are committed together.
std::vector<RefusedRow> write_one_by_one(pqxx::connection& connection, const std::vector<OrderRow>& rows,
                                         OrderStore::Deadline deadline) {
  pqxx::work transaction(connection);
  bound_by(transaction, deadline);
  const auto statement = upsert_statement(1);
  std::vector<RefusedRow> refused;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    // Savepoints by hand: libpqxx 6.4's pqxx::subtransaction does not begin its savepoint
    // before exec_params(), so a refused row would abort the whole transaction.
    transaction.exec0("SAVEPOINT order_row");
    try {
      transaction.exec_params(statement, pqxx::prepare::make_dynamic_params(parameters_of(rows[i])));
      transaction.exec0("RELEASE SAVEPOINT order_row");
    } catch (const pqxx::sql_error& error) {
      if (classify_sqlstate(error.sqlstate()) != SqlFailure::row) throw;
      transaction.exec0("ROLLBACK TO SAVEPOINT order_row");
      refused.push_back({i, "the database refused the order: " + one_line(error.what())});
    }
  }
  transaction.commit();
  return refused;
}

}  // namespace

pqxx::connection& OrderStore::connect(const std::string& url) {
  if (!connection_) {
    // libpq would also take `host=... dbname=...`; insisting on a URL catches a setting that
    // holds something else before it becomes an endless series of failed connections.
    if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) {
      throw kernel::FatalError("POSTGRES_SINK_DATABASE_URL is not a postgresql:// URL");
    }
    connection_ = std::make_unique<pqxx::connection>(url);
  }
  return *connection_;
}

std::vector<RefusedRow> OrderStore::upsert(const std::string& url, const std::vector<OrderRow>& rows,
                                           Deadline deadline) {
  if (rows.empty()) return {};
  try {
    auto& connection = connect(url);
    try {
      write_together(connection, rows, deadline);
      return {};
    } catch (const pqxx::sql_error& error) {
      if (classify_sqlstate(error.sqlstate()) != SqlFailure::row) throw;
    }
    // One row the database refuses fails the whole statement: find which, row by row. Rare,
    // so the cost of one savepoint per row is paid only then.
    return write_one_by_one(connection, rows, deadline);
  } catch (const pqxx::broken_connection& error) {
    connection_.reset();  // opened again for the next attempt
    throw kernel::TransientError("database unreachable: " + one_line(error.what()));
  } catch (const pqxx::in_doubt_error& error) {
    // The connection broke during COMMIT: the rows may or may not be stored. Writing them again
    // is safe, since the upsert is keyed on the event id.
    connection_.reset();
    throw kernel::TransientError("database commit in doubt: " + one_line(error.what()));
  } catch (const pqxx::transaction_rollback& error) {
    throw kernel::TransientError("database rolled the transaction back: " + one_line(error.what()));
  } catch (const pqxx::sql_error& error) {
    if (classify_sqlstate(error.sqlstate()) == SqlFailure::transient) {
      connection_.reset();  // a shutting-down server, a cancelled statement: start afresh
      throw kernel::TransientError("database failed (SQLSTATE " + error.sqlstate() + "): " + one_line(error.what()));
    }
    throw kernel::FatalError("the orders table cannot be written (SQLSTATE " + error.sqlstate() +
                             "): " + one_line(error.what()));
  }
}

}  // namespace postgres_sink
