// Non-blocking retry topics: a transient failure moves the message to the next retry topic
// (its commit waits for that record's acknowledgement); a retry topic's head that is not due
// yet waits, with its partition paused, in the in-place retry slot, so polling goes on and
// nothing on any other partition waits for it.
#include "loop/retry_topics.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "core/rfc3339.hpp"
#include "loop/error_text.hpp"

namespace kernel::detail {

bool is_retry_bookkeeping(std::string_view header_name) noexcept {
  return header_name.starts_with("retry-") && header_name != "retry-count";
}

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text) noexcept {
  // Exactly the format format_rfc3339() writes: YYYY-MM-DDTHH:MM:SS.mmmZ.
  if (text.size() != rfc3339_length || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != '.' || text[23] != 'Z') {
    return std::nullopt;
  }
  auto field = [&](std::size_t at, std::size_t length) -> std::optional<int> {
    int value = 0;
    const auto* begin = text.data() + at;
    const auto [end, error] = std::from_chars(begin, begin + length, value);
    if (error != std::errc() || end != begin + length) return std::nullopt;
    return value;
  };
  const auto year = field(0, 4), month = field(5, 2), day = field(8, 2), hour = field(11, 2), minute = field(14, 2),
             second = field(17, 2), milli = field(20, 3);
  if (!year || !month || !day || !hour || !minute || !second || !milli || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                            std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  const auto days_since_epoch = sys_days(date).time_since_epoch();
  return duration_cast<milliseconds>(days_since_epoch + hours(*hour) + minutes(*minute) + seconds(*second)).count() +
         *milli;
}

RetryOrigin retry_origin_of(const Message& message) {
  const auto topic = message.header(retry_header::original_topic);
  const auto partition = message.header(retry_header::original_partition);
  const auto offset = message.header(retry_header::original_offset);
  const auto timestamp = message.header(retry_header::original_timestamp);
  if (topic && partition && offset && timestamp) {
    return {std::string(*topic), std::string(*partition), std::string(*offset), std::string(*timestamp)};
  }
  return {std::string(message.topic()), std::to_string(message.partition()), std::to_string(message.offset()),
          format_rfc3339(message.timestamp_ms())};
}

}  // namespace kernel::detail
