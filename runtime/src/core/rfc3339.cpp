#include "core/rfc3339.hpp"

#include <time.h>

namespace kernel::detail {

namespace {
/// Writes `value` as `width` digits, most significant first.
char* put_digits(char* out, std::int64_t value, int width) noexcept {
  for (int i = width - 1; i >= 0; --i, value /= 10) out[i] = static_cast<char>('0' + value % 10);
  return out + width;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept { return a / b - (a % b < 0 ? 1 : 0); }
}  // namespace

void format_rfc3339(std::int64_t epoch_ms, char* out) noexcept {
  const std::int64_t seconds = floor_div(epoch_ms, 1000);
  const std::int64_t millis = epoch_ms - seconds * 1000;
  const std::int64_t days = floor_div(seconds, 86400);
  const std::int64_t second_of_day = seconds - days * 86400;
  // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
  const std::int64_t z = days + 719468;
  const std::int64_t era = floor_div(z, 146097);
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  out = put_digits(out, year, 4);
  *out++ = '-';
  out = put_digits(out, month, 2);
  *out++ = '-';
  out = put_digits(out, day, 2);
  *out++ = 'T';
  out = put_digits(out, second_of_day / 3600, 2);
  *out++ = ':';
  out = put_digits(out, second_of_day / 60 % 60, 2);
  *out++ = ':';
  out = put_digits(out, second_of_day % 60, 2);
  *out++ = '.';
  out = put_digits(out, millis, 3);
  *out = 'Z';
}

std::string format_rfc3339(std::int64_t epoch_ms) {
  std::string text(rfc3339_length, '\0');
  format_rfc3339(epoch_ms, text.data());
  return text;
}

std::int64_t now_epoch_ms() noexcept {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

}  // namespace kernel::detail
