#pragma once
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "order_row.hpp"

namespace postgres_sink {

/// A row the database refused: its index among the rows given to OrderStore::upsert(), and why.
struct RefusedRow {
  std::size_t index;
  std::string reason;
};

/// The orders table, through one connection opened on first use and opened again after it was
/// lost. Not thread-safe: a batch kernel calls it from its loop thread, one batch at a time.
class OrderStore {
 public:
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;

  /// Upserts `rows` in one transaction, with one multi-row statement (upsert.hpp), and returns
  /// the rows the database refused (a constraint, a value out of range): those are found by
  /// writing each row under a savepoint, and the others are committed without them.
  ///
  /// Throws kernel::TransientError when the database is unreachable or the transaction could
  /// not finish (the whole batch is retried, and the circuit breaker counts it); its statements
  /// are bounded by `deadline` (statement_timeout). Throws kernel::FatalError when the
  /// statement itself is wrong (no table, no privilege, `url` not a postgresql:// URL): every
  /// batch would fail alike, so the kernel stops rather than dead-letter them all.
  std::vector<RefusedRow> upsert(const std::string& url, const std::vector<OrderRow>& rows, Deadline deadline);

 private:
  pqxx::connection& connect(const std::string& url);

  std::unique_ptr<pqxx::connection> connection_;  // null until first use, and after it was lost
};

}  // namespace postgres_sink
