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

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t year, std::int64_t month, std::int64_t day) noexcept {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = floor_div(year, 400);
  const std::int64_t yoe = year - era * 400;
  const std::int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool leap_year(std::int64_t year) noexcept { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(std::int64_t year, std::int64_t month) noexcept {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && leap_year(year) ? 29 : days[month - 1];
}

/// Reads one RFC 3339 date-time, failing with what is wrong.
class Rfc3339Reader {
 public:
  explicit Rfc3339Reader(std::string_view text) : text_(text) {}

  std::int64_t read() {
    const auto year = number(4, "a four-digit year");
    expect('-', "'-' after the year");
    const auto month = number(2, "a two-digit month");
    expect('-', "'-' after the month");
    const auto day = number(2, "a two-digit day");
    if (pos_ == text_.size()) fail("a time is required after the date (T03:00:00Z)");
    if (const char c = text_[pos_]; c == 'T' || c == 't' || c == ' ') {
      ++pos_;
    } else {
      fail("expected 'T' between the date and the time");
    }
    const auto hour = number(2, "a two-digit hour");
    expect(':', "':' after the hour");
    const auto minute = number(2, "a two-digit minute");
    expect(':', "':' after the minute");
    const auto second = number(2, "two-digit seconds");
    std::int64_t millis = 0;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      int digits = 0;
      for (; pos_ < text_.size() && is_digit(text_[pos_]); ++pos_, ++digits) {
        if (digits < 3) millis = millis * 10 + (text_[pos_] - '0');
      }
      if (digits == 0) fail("expected digits after the '.' of the seconds");
      for (; digits < 3; ++digits) millis *= 10;
    }
    if (month < 1 || month > 12) fail("month " + std::to_string(month) + " is not 01 to 12");
    if (day < 1 || day > days_in_month(year, month)) {
      fail("day " + std::to_string(day) + " is not in month " + std::to_string(month) + " of " + std::to_string(year));
    }
    if (hour > 23 || minute > 59 || second > 60) fail("the time of day is not between 00:00:00 and 23:59:60");
    const std::int64_t offset_seconds = zone();
    if (pos_ != text_.size()) fail("unexpected \"" + std::string(text_.substr(pos_)) + "\" after the zone");
    const std::int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    return (seconds - offset_seconds) * 1000 + millis;
  }

 private:
  static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

  /// Z, or +hh:mm / -hh:mm; the offset in seconds east of UTC.
  std::int64_t zone() {
    if (pos_ == text_.size()) fail("a zone is required (Z for UTC, or an offset like +02:00)");
    const char c = text_[pos_];
    if (c == 'Z' || c == 'z') {
      ++pos_;
      return 0;
    }
    if (c != '+' && c != '-') fail("expected a zone: Z for UTC, or an offset like +02:00");
    ++pos_;
    const auto hours = number(2, "an offset of two-digit hours (+02:00)");
    expect(':', "':' in the offset (+02:00)");
    const auto minutes = number(2, "an offset of two-digit minutes (+02:00)");
    if (hours > 23 || minutes > 59) fail("the offset is not between -23:59 and +23:59");
    return (c == '+' ? 1 : -1) * (hours * 3600 + minutes * 60);
  }

  std::int64_t number(int width, std::string_view what) {
    std::int64_t value = 0;
    for (int i = 0; i < width; ++i, ++pos_) {
      if (pos_ >= text_.size() || !is_digit(text_[pos_])) fail("expected " + std::string(what));
      value = value * 10 + (text_[pos_] - '0');
    }
    return value;
  }

  void expect(char c, std::string_view what) {
    if (pos_ >= text_.size() || text_[pos_] != c) fail("expected " + std::string(what));
    ++pos_;
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw Rfc3339Error("\"" + std::string(text_) + "\" is not an RFC 3339 time (2026-11-23T03:09:38Z): " + why);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

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

std::int64_t parse_rfc3339(std::string_view text) { return Rfc3339Reader(text).read(); }

std::optional<std::int64_t> try_parse_rfc3339(std::string_view text) noexcept {
  try {
    return parse_rfc3339(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::int64_t now_epoch_ms() noexcept {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

}  // namespace kernel::detail
