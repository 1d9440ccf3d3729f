#pragma once
#include <cstdint>
#include <string>

#include <kernel/kernel.hpp>

namespace pipeline_example {

/// Step `price` of pipeline `orders` (order-pricer): prices a validated order and passes it on.
///
/// Its output is `{"id", "customer", "country", "net", "tax", "gross", "currency": "EUR"}`,
/// amounts as decimal strings (`"29.75"`). An order of 1,000 EUR or more is also handed to the
/// billing pipeline (setting INVOICE_TOPIC), an express order to the shipping pipeline (setting
/// EXPRESS_TOPIC): topics of other pipelines, which the produce guard lets through only when
/// KERNEL_ALLOWED_TOPICS lists them (docs/pipelines.md).
void price_order(const kernel::Message& message, kernel::Context& context);

/// `cents` as a decimal string: 2975 is "29.75".
std::string euros(std::int64_t cents);

}  // namespace pipeline_example
