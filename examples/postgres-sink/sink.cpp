#include "sink.hpp"

#include <string>
#include <unordered_map>
#include <vector>

namespace postgres_sink {

void store_orders(kernel::Batch& batch, kernel::Context& context, OrderStore& store) {
  std::vector<OrderRow> rows;
  std::vector<std::vector<std::size_t>> messages_of_row;  // the messages each row stands for
  std::unordered_map<std::string, std::size_t> row_of_event;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    try {
      auto row = order_row(batch[i]);
      // One statement cannot upsert the same key twice, and the second copy adds nothing.
      const auto [found, added] = row_of_event.try_emplace(row.event_id, rows.size());
      if (added) {
        rows.push_back(std::move(row));
        messages_of_row.push_back({i});
      } else {
        messages_of_row[found->second].push_back(i);
      }
    } catch (const kernel::KernelError& error) {
      batch.fail(i, error);  // this message only: dead-lettered with its validation error
    }
  }

  const auto refused = store.upsert(context.setting<std::string>("DATABASE_URL"), rows, context.deadline());
  for (const auto& row : refused) {
    for (const auto i : messages_of_row[row.index]) {
      batch.fail(i, kernel::PermanentError(row.reason, kernel::FailureReason::validation_error));
    }
  }
  context.log().debug("stored {} orders of {} messages from {}[{}] ({} refused by the database)",
                      rows.size() - refused.size(), batch.size(), batch.topic(), batch.partition(), refused.size());
}

}  // namespace postgres_sink
