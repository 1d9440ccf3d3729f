// Parsing and printing of the value types variables use: durations, sizes, booleans,
// numbers and lists.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "config/config_detail.hpp"

namespace kernel::config_detail {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads a decimal number (digits with an optional fraction) at text[pos].
std::optional<double> read_decimal(std::string_view text, std::size_t& pos) {
  const auto start = pos;
  while (pos < text.size() && (is_digit(text[pos]) || text[pos] == '.')) ++pos;
  if (pos == start) return std::nullopt;
  double value = 0;
  const auto result = std::from_chars(text.data() + start, text.data() + pos, value);
  if (result.ec != std::errc() || result.ptr != text.data() + pos) return std::nullopt;
  return value;
}

}  // namespace

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto end = comma == std::string_view::npos ? text.size() : comma;
    items.push_back(trim(text.substr(start, end - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// Go-style durations (seed 003's users write them): 250ms, 10s, 1m30s, 1.5h. A bare number
// is refused because "10" could mean ms or s, and guessing wrong is silent.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view input,
                                                        std::string& error) {
  const auto text = trim(input);
  const std::string expected = "expected a duration with a unit, e.g. 500ms or 10s";
  if (text.empty()) {
    error = expected;
    return std::nullopt;
  }
  double total_ms = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto number = read_decimal(text, pos);
    if (!number) {
      error = expected + " (units: ms, s, m, h)";
      return std::nullopt;
    }
    const auto unit_start = pos;
    while (pos < text.size() && !is_digit(text[pos]) && text[pos] != '.') ++pos;
    const auto unit = text.substr(unit_start, pos - unit_start);
    double scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    if (scale == 0) {
      error = unit.empty() ? expected : expected + " (units: ms, s, m, h)";
      return std::nullopt;
    }
    total_ms += *number * scale;
  }
  if (total_ms != std::floor(total_ms)) {
    error = "expected whole milliseconds, e.g. 1ms or 1.5s";
    return std::nullopt;
  }
  if (total_ms > static_cast<double>(std::numeric_limits<int>::max())) {
    error = "expected at most 596h (2147483647ms)";
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<long long>(total_ms));
}

std::optional<long long> parse_size(std::string_view input, std::string& error) {
  const auto text = trim(input);
  error = "expected a size in bytes, or with KB, MB, KiB or MiB, e.g. 10MB";
  std::size_t pos = 0;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  if (pos == 0) return std::nullopt;
  long long number = 0;
  const auto result = std::from_chars(text.data(), text.data() + pos, number);
  if (result.ec != std::errc()) return std::nullopt;
  const auto unit = lower(trim(std::string_view(text).substr(pos)));
  long long scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "kb") scale = 1'000;
  else if (unit == "mb") scale = 1'000'000;
  else if (unit == "gb") scale = 1'000'000'000;
  else if (unit == "kib") scale = 1LL << 10;
  else if (unit == "mib") scale = 1LL << 20;
  else if (unit == "gib") scale = 1LL << 30;
  if (scale == 0 || number > std::numeric_limits<long long>::max() / scale) return std::nullopt;
  error.clear();
  return number * scale;
}

std::optional<bool> parse_bool(std::string_view input, std::string& error) {
  const auto text = lower(trim(input));
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  error = "expected true, false, 1, 0, yes or no";
  return std::nullopt;
}

std::optional<long long> parse_integer(std::string_view input, std::string& error) {
  const auto text = trim(input);
  long long value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size()) {
    error = "expected a whole number";
    return std::nullopt;
  }
  return value;
}

std::optional<double> parse_number(std::string_view input, std::string& error) {
  const auto text = trim(input);
  double value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size() ||
      !std::isfinite(value)) {
    error = "expected a number, e.g. 2.0";
    return std::nullopt;
  }
  return value;
}

std::string format_duration(std::chrono::milliseconds value) {
  const auto ms = value.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string format_size(long long bytes) {
  if (bytes != 0 && bytes % 1'000'000 == 0) return std::to_string(bytes / 1'000'000) + "MB";
  if (bytes != 0 && bytes % (1LL << 20) == 0) return std::to_string(bytes >> 20) + "MiB";
  if (bytes != 0 && bytes % 1000 == 0) return std::to_string(bytes / 1000) + "KB";
  if (bytes != 0 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + "KiB";
  return std::to_string(bytes);
}

std::string format_number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string text(buffer, result.ptr);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

}  // namespace kernel::config_detail
