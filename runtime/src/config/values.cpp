// Parsing and printing of the value types variables use: durations, sizes, booleans,
// numbers, lists, PEM text and broker lists. Part of kernel_config (no librdkafka).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "config/values.hpp"
#include "core/base64.hpp"

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

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
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

std::string markdown_cell(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

// Go-style durations (seed 003's users write them): 250ms, 10s, 1m30s, 1.5h. A bare number
// is refused because "10" could mean ms or s, and guessing wrong is silent.
Parsed<std::chrono::milliseconds> parse_duration(std::string_view input) {
  const auto text = trim(input);
  const std::string expected = "expected a duration with a unit, e.g. 500ms or 10s";
  if (text.empty()) return parse_error(expected);
  double total_ms = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto number = read_decimal(text, pos);
    if (!number) return parse_error(expected + " (units: ms, s, m, h, d)");
    const auto unit_start = pos;
    while (pos < text.size() && !is_digit(text[pos]) && text[pos] != '.') ++pos;
    const auto unit = text.substr(unit_start, pos - unit_start);
    double scale = 0;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60'000;
    else if (unit == "h")
      scale = 3'600'000;
    else if (unit == "d")
      scale = 86'400'000;
    if (scale == 0) return parse_error(unit.empty() ? expected : expected + " (units: ms, s, m, h, d)");
    total_ms += *number * scale;
  }
  if (total_ms != std::floor(total_ms)) return parse_error("expected whole milliseconds, e.g. 1ms or 1.5s");
  if (total_ms > static_cast<double>(std::numeric_limits<int>::max())) {
    return parse_error("expected at most 596h (2147483647ms)");
  }
  return std::chrono::milliseconds(static_cast<long long>(total_ms));
}

Parsed<long long> parse_size(std::string_view input) {
  const auto text = trim(input);
  const auto refused = [] { return parse_error("expected a size in bytes, or with KB, MB, KiB or MiB, e.g. 10MB"); };
  std::size_t pos = 0;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  if (pos == 0) return refused();
  long long number = 0;
  const auto result = std::from_chars(text.data(), text.data() + pos, number);
  if (result.ec != std::errc()) return refused();
  const auto unit = lower(trim(std::string_view(text).substr(pos)));
  long long scale = 0;
  if (unit.empty() || unit == "b")
    scale = 1;
  else if (unit == "kb")
    scale = 1'000;
  else if (unit == "mb")
    scale = 1'000'000;
  else if (unit == "gb")
    scale = 1'000'000'000;
  else if (unit == "kib")
    scale = 1LL << 10;
  else if (unit == "mib")
    scale = 1LL << 20;
  else if (unit == "gib")
    scale = 1LL << 30;
  if (scale == 0 || number > std::numeric_limits<long long>::max() / scale) return refused();
  return number * scale;
}

Parsed<bool> parse_bool(std::string_view input) {
  const auto text = lower(trim(input));
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  return parse_error("expected true, false, 1, 0, yes or no");
}

Parsed<long long> parse_integer(std::string_view input) {
  const auto text = trim(input);
  long long value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size()) {
    return parse_error("expected a whole number");
  }
  return value;
}

Parsed<double> parse_number(std::string_view input) {
  const auto text = trim(input);
  double value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size() || !std::isfinite(value)) {
    return parse_error("expected a number, e.g. 2.0");
  }
  return value;
}

std::optional<std::string> decode_pem(std::string_view input) {
  auto text = trim(input);
  if (text.starts_with("-----BEGIN")) {
    // A PEM squeezed onto one line with literal \n (common in env files and CI secrets).
    if (text.find('\n') == std::string::npos && text.find("\\n") != std::string::npos) {
      std::string unescaped;
      for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
          unescaped += '\n';
          ++i;
        } else {
          unescaped += text[i];
        }
      }
      text = std::move(unescaped);
    }
    return text + "\n";
  }
  auto decoded = detail::base64_decode(text);
  if (!decoded) return std::nullopt;
  auto pem = trim(*decoded);
  if (!pem.starts_with("-----BEGIN")) return std::nullopt;
  return pem + "\n";
}

// One entry of KAFKA_BOOTSTRAP_SERVERS as librdkafka reads it: [proto://]host[:port], an IPv6
// host in brackets. librdkafka would take any text after the colon as a service name and
// only fail to connect, so a port that is no port would surface as "unreachable" (69) after
// the start-up timeout instead of here.
std::string broker_problem(std::string_view broker) {
  std::string expected =
      "expected comma-separated host:port entries with a port from 1 to 65535, e.g. "
      "broker1:9092,broker2:9092";
  const std::string each = "expected host:port with a port from 1 to 65535, e.g. broker1:9092";
  if (broker.empty() || broker.find_first_of(" \t") != std::string_view::npos) return expected;
  if (const auto scheme = broker.find("://"); scheme != std::string_view::npos) broker.remove_prefix(scheme + 3);
  std::string_view host = broker, port;
  if (broker.starts_with('[')) {
    const auto close = broker.find(']');
    if (close == std::string_view::npos) return "\"" + std::string(broker) + "\" has no closing ]; " + each;
    host = broker.substr(1, close - 1);
    const auto rest = broker.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return expected;
    if (!rest.empty()) port = rest.substr(1);
    if (rest == ":") return "\"" + std::string(broker) + "\" has an empty port; " + each;
  } else if (const auto colon = broker.rfind(':'); colon != std::string_view::npos) {
    if (broker.find(':') != colon) return {};  // a bare IPv6 address: librdkafka's to judge
    host = broker.substr(0, colon);
    port = broker.substr(colon + 1);
    if (port.empty()) return "\"" + std::string(broker) + "\" has an empty port; " + each;
  }
  if (host.empty()) return "\"" + std::string(broker) + "\" has no host; " + each;
  if (port.empty()) return {};  // no port: librdkafka uses 9092
  const auto number = parse_integer(port);
  const bool digits_only = port.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits_only || !number || *number < 1 || *number > 65535) {
    return "\"" + std::string(broker) + "\" has port " + std::string(port) + "; " + each;
  }
  return {};
}

std::string format_duration(std::chrono::milliseconds value) {
  const auto ms = value.count();
  if (ms != 0 && ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
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

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::string closest(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& candidate : candidates) {
    const auto distance = edit_distance(name, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

}  // namespace kernel::config_detail
