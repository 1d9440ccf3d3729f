#pragma once
#include <kernel/kernel.hpp>

#include "order_store.hpp"

namespace postgres_sink {

/// The batch handler: decodes each message of the batch into a row (one that does not decode is
/// dead-lettered alone), upserts the rows with one statement, and fails alone each row the
/// database refuses. A message whose event is twice in the batch is written once; both succeed.
/// The database URL is the kernel's secret setting DATABASE_URL.
void store_orders(kernel::Batch& batch, kernel::Context& context, OrderStore& store);

}  // namespace postgres_sink
