#include "service_answer.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <iomanip>
#include <sstream>

#include <kernel/kernel.hpp>

namespace http_enricher {

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return max_retry_after;  // more than 31 years: as good as forever
    long long seconds = 0;
    std::from_chars(value.data(), value.data() + value.size(), seconds);
    return std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), max_retry_after);
  }
  // IMF-fixdate, the form RFC 9110 requires senders to use.
  std::tm parts{};
  std::istringstream text{std::string(value)};
  text.imbue(std::locale::classic());
  text >> std::get_time(&parts, "%a, %d %b %Y %H:%M:%S GMT");
  if (text.fail() || text.peek() != std::char_traits<char>::eof()) return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(timegm(&parts));
  const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  return std::clamp<std::chrono::milliseconds>(delay, std::chrono::milliseconds(0), max_retry_after);
}

nlohmann::json customer_from_answer(int status, std::string_view body, std::string_view retry_after,
                                    std::chrono::system_clock::time_point now) {
  const auto answered = "the customer service answered " + std::to_string(status);
  if (status == 200) {
    auto customer = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!customer.is_object()) throw kernel::TransientError(answered + " with a body that is not a JSON object");
    return customer;
  }
  if (status == 408 || status == 429 || (status >= 500 && status <= 599)) {
    kernel::TransientError error(answered);
    if (const auto delay = parse_retry_after(retry_after, now)) error.retry_after(*delay);
    throw error;
  }
  throw kernel::PermanentError(answered);
}

}  // namespace http_enricher
