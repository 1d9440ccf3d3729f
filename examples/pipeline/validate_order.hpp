#pragma once
#include <kernel/kernel.hpp>

namespace pipeline_example {

/// Step `validate` of pipeline `orders` (order-validator): checks an order and passes it on,
/// normalised, keyed by its id.
///
/// `{"id": "o-1", "customer": "c-7", "country": "de", "items": [{"sku": "book", "qty": 2,
/// "price": 12.5}], "express": false}` becomes the same order with the country upper-cased and
/// `express` present. Not JSON, a field missing or of the wrong type, no items (or over 100), a
/// quantity out of 1 to 10,000 or a price out of 0 to 1,000,000: kernel::PermanentError (validation_error,
/// dead-lettered). A country the shop does not ship to: kernel::BusinessError (the step's error topic).
void validate_order(const kernel::Message& message, kernel::Context& context);

}  // namespace pipeline_example
