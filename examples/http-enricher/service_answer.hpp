#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace http_enricher {

/// The longest delay a Retry-After may ask for; the runtime caps it further at
/// KERNEL_RETRY_BACKOFF_MAX.
inline constexpr std::chrono::milliseconds max_retry_after = std::chrono::hours(1);

/// What an answer of the customer service means for the message being enriched:
///
/// | status | means |
/// | --- | --- |
/// | 200 with a JSON object | the customer, returned |
/// | 200 with anything else | the service is broken: kernel::TransientError |
/// | 408, 429, 5xx | the service cannot answer now: kernel::TransientError, with retry_after() the delay its
/// `Retry-After` asks for | | any other | the request will never succeed (404 unknown customer, 400, 401, ...):
/// kernel::PermanentError |
///
/// `retry_after` is the header's value ("" without one); `now` reads an HTTP-date against.
nlohmann::json customer_from_answer(int status, std::string_view body, std::string_view retry_after,
                                    std::chrono::system_clock::time_point now);

/// A `Retry-After` value: delay-seconds (`120`) or an HTTP-date (`Tue, 01 Dec 2026 10:00:30
/// GMT`, 0 when past), at most max_retry_after; nullopt when it is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

}  // namespace http_enricher
