#pragma once
#include <kernel/kernel.hpp>

#include "customer_client.hpp"

namespace http_enricher {

/// The handler: adds `customer_details`, the customer service's record of the order's
/// `customer`, to the order and produces it with the input's key. The call's deadline is the
/// handler's (KERNEL_HANDLER_TIMEOUT, `context.deadline()`) or the REQUEST_TIMEOUT setting,
/// whichever comes first. Thread-safe, for KERNEL_CONCURRENCY.
void enrich_order(const kernel::Message& message, kernel::Context& context, CustomerClient& customers);

}  // namespace http_enricher
