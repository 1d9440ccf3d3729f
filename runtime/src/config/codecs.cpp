// The types of values variables have: how each is parsed from the text a user writes,
// written back, and checked on its own; and the texts of enum values, each written once.
// Part of kernel_config.
#include <arpa/inet.h>

#include <algorithm>
#include <limits>
#include <span>

#include "config/codecs.hpp"

namespace kernel {

using namespace config_detail;
using namespace config_detail::codec;

namespace {

// ---- The texts of enum values, each written once -------------------------------------------

/// One way to write an enum value; unlisted synonyms are read but not offered.
template <typename E>
struct Choice {
  std::string_view text;
  E value;
  bool listed = true;
};

// The first text of a value is the one written back (and given to librdkafka).
constexpr Choice<SecurityProtocol> security_protocols[] = {{"PLAINTEXT", SecurityProtocol::plaintext},
                                                           {"SSL", SecurityProtocol::ssl},
                                                           {"SASL_PLAINTEXT", SecurityProtocol::sasl_plaintext},
                                                           {"SASL_SSL", SecurityProtocol::sasl_ssl}};
constexpr Choice<SaslMechanism> sasl_mechanisms[] = {{"PLAIN", SaslMechanism::plain},
                                                     {"SCRAM-SHA-256", SaslMechanism::scram_sha_256},
                                                     {"SCRAM-SHA-512", SaslMechanism::scram_sha_512}};
constexpr Choice<Acks> acks_values[] = {
    {"all", Acks::all}, {"-1", Acks::all}, {"1", Acks::leader}, {"0", Acks::none, false}};
constexpr Choice<Compression> compressions[] = {{"none", Compression::none},
                                                {"gzip", Compression::gzip},
                                                {"snappy", Compression::snappy},
                                                {"lz4", Compression::lz4},
                                                {"zstd", Compression::zstd}};
constexpr Choice<StartOffset> start_offsets[] = {{"earliest", StartOffset::earliest},
                                                 {"latest", StartOffset::latest},
                                                 {"-2", StartOffset::earliest},
                                                 {"-1", StartOffset::latest}};
constexpr Choice<LogLevel> log_levels[] = {{"trace", LogLevel::trace}, {"debug", LogLevel::debug},
                                           {"info", LogLevel::info},   {"warn", LogLevel::warn},
                                           {"error", LogLevel::error}, {"warning", LogLevel::warn, false}};
constexpr Choice<LogFormat> log_formats[] = {{"text", LogFormat::text}, {"json", LogFormat::json}};
constexpr Choice<Ordering> orderings[] = {
    {"key", Ordering::key}, {"partition", Ordering::partition}, {"none", Ordering::none}};
constexpr Choice<DeliveryGuarantee> deliveries[] = {{"at_least_once", DeliveryGuarantee::at_least_once},
                                                    {"exactly_once", DeliveryGuarantee::exactly_once}};

std::span<const Choice<SecurityProtocol>> choices_of(SecurityProtocol) { return security_protocols; }
std::span<const Choice<SaslMechanism>> choices_of(SaslMechanism) { return sasl_mechanisms; }
std::span<const Choice<Acks>> choices_of(Acks) { return acks_values; }
std::span<const Choice<Compression>> choices_of(Compression) { return compressions; }
std::span<const Choice<StartOffset>> choices_of(StartOffset) { return start_offsets; }
std::span<const Choice<LogLevel>> choices_of(LogLevel) { return log_levels; }
std::span<const Choice<LogFormat>> choices_of(LogFormat) { return log_formats; }
std::span<const Choice<Ordering>> choices_of(Ordering) { return orderings; }
std::span<const Choice<DeliveryGuarantee>> choices_of(DeliveryGuarantee) { return deliveries; }
constexpr Choice<SubjectStrategy> subject_strategies[] = {{"topic", SubjectStrategy::topic},
                                                          {"record", SubjectStrategy::record}};
std::span<const Choice<SubjectStrategy>> choices_of(SubjectStrategy) { return subject_strategies; }

template <typename E>
std::string_view text_of(E value) {
  for (const auto& choice : choices_of(value)) {
    if (choice.value == value) return choice.text;
  }
  return {};  // only a number cast to the enum from outside its values
}

}  // namespace

std::string_view to_string(SecurityProtocol value) { return text_of(value); }
std::string_view to_string(SaslMechanism value) { return text_of(value); }
std::string_view to_string(Acks value) { return text_of(value); }
std::string_view to_string(Compression value) { return text_of(value); }
std::string_view to_string(StartOffset value) { return text_of(value); }
std::string_view to_string(LogLevel value) { return text_of(value); }
std::string_view to_string(LogFormat value) { return text_of(value); }
std::string_view to_string(Ordering value) { return text_of(value); }
std::string_view to_string(DeliveryGuarantee value) { return text_of(value); }
std::string_view to_string(SubjectStrategy value) { return text_of(value); }

namespace config_detail::codec {

Codec<std::string> text(std::string type) {
  return {std::move(type), [](std::string_view text) { return Parsed<std::string>(trim(text)); },
          [](const std::string& value) { return value; }};
}

Codec<std::string> verbatim() {
  return {"string", [](std::string_view text) { return Parsed<std::string>(std::string(text)); },
          [](const std::string& value) { return value; }};
}

Codec<std::string> pem(std::string what) {
  return {"pem",
          [what](std::string_view text) -> Parsed<std::string> {
            auto decoded = decode_pem(text);
            if (!decoded)
              return parse_error("not a PEM " + what + ": expected text starting with -----BEGIN, or base64 of it");
            return std::move(*decoded);
          },
          [](const std::string& value) { return value; }};
}

Codec<std::vector<std::string>> topic_list() {
  return {"list",
          [](std::string_view text) -> Parsed<std::vector<std::string>> {
            std::vector<std::string> topics;
            for (auto& topic : split_list(text)) {
              if (topic.empty()) return parse_error("expected comma-separated topic names with none empty");
              if (std::find(topics.begin(), topics.end(), topic) == topics.end()) topics.push_back(topic);
            }
            return topics;
          },
          [](const std::vector<std::string>& topics) { return join(topics, ","); }};
}

Codec<bool> boolean() {
  return {"bool", parse_bool, [](bool value) { return std::string(value ? "true" : "false"); }};
}

Codec<int> whole_number(long long minimum, std::string meaning) {
  const auto expected = "expected a whole number of at least " + std::to_string(minimum) + meaning;
  return {"int",
          [=](std::string_view text) -> Parsed<int> {
            const auto parsed = parse_integer(text);
            if (parsed && *parsed >= minimum && *parsed <= std::numeric_limits<int>::max()) {
              return static_cast<int>(*parsed);
            }
            return parse_error(expected);
          },
          [](int value) { return std::to_string(value); },
          {},
          [=](int value, std::string_view) { return value < minimum ? expected : std::string(); }};
}

Codec<std::chrono::milliseconds> duration(Zero zero) {
  return {
      "duration", parse_duration, format_duration, {}, [=](std::chrono::milliseconds value, std::string_view example) {
        if (zero == Zero::allowed || value.count() > 0) return std::string();
        return "expected a duration above 0" + (example.empty() ? std::string() : ", e.g. " + std::string(example));
      }};
}

Codec<std::vector<std::chrono::milliseconds>> rising_durations() {
  return {"list",
          [](std::string_view text) -> Parsed<std::vector<std::chrono::milliseconds>> {
            std::vector<std::chrono::milliseconds> delays;
            for (const auto& each : split_list(text)) {
              auto delay = parse_duration(each);
              if (!delay) return parse_error(std::move(delay).error());
              delays.push_back(*delay);
            }
            return delays;
          },
          [](const std::vector<std::chrono::milliseconds>& delays) {
            std::vector<std::string> shown;
            for (const auto delay : delays) shown.push_back(format_duration(delay));
            return join(shown, ",");
          },
          {},
          [](const std::vector<std::chrono::milliseconds>& delays, std::string_view) {
            for (std::size_t i = 0; i < delays.size(); ++i) {
              if (delays[i].count() <= 0) {
                return "delay " + std::to_string(i + 1) + " is " + format_duration(delays[i]) +
                       ": expected delays above 0, e.g. 1s,10s,1m";
              }
              if (i > 0 && delays[i] < delays[i - 1]) {
                return "delay " + std::to_string(i + 1) + " (" + format_duration(delays[i]) +
                       ") is shorter than delay " + std::to_string(i) + " (" + format_duration(delays[i - 1]) +
                       "): expected non-decreasing delays, e.g. 1s,10s,1m";
              }
            }
            return std::string();
          }};
}

Codec<DedupWindow> dedup_window(std::string_view fallback) {
  static constexpr long long max_count = 10'000'000;  // ~1 GB of ids at most: a bound, not a target
  const std::string expected = "expected COUNT,AGE (e.g. 10000,10m), or either alone";
  // One part, into `window`: a bare whole number is the count, anything else must be the age.
  auto read_part = [expected](std::string_view part, DedupWindow window) -> Parsed<DedupWindow> {
    const auto text = trim(part);
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
      const auto count = parse_integer(text);
      if (!count || *count < 1 || *count > max_count) {
        return parse_error("count " + text + " is out of range: expected 1 to " + std::to_string(max_count) + "; " +
                           expected);
      }
      window.count = static_cast<std::size_t>(*count);
      return window;
    }
    const auto age = parse_duration(text);
    if (!age) return parse_error("\"" + text + "\" is neither a count nor an age (" + age.error() + "); " + expected);
    window.age = *age;
    return window;
  };
  auto parse = [read_part](std::string_view text, DedupWindow start) -> Parsed<DedupWindow> {
    const auto comma = text.find(',');
    if (comma == std::string_view::npos) return read_part(text, start);
    auto window = read_part(text.substr(0, comma), DedupWindow{});
    if (window) window = read_part(text.substr(comma + 1), *window);
    if (!window) return window;
    if (window->count == 0 || window->age.count() == 0) {
      return parse_error("expected one count and one age, e.g. 10000,10m");
    }
    return window;
  };
  const auto fallback_window = parse(fallback, DedupWindow{});
  const auto defaults = fallback_window ? *fallback_window : DedupWindow{};
  return {"count,duration",
          [parse, defaults](std::string_view text) { return parse(text, defaults); },
          [](const DedupWindow& window) { return std::to_string(window.count) + "," + format_duration(window.age); },
          {},
          [](const DedupWindow& window, std::string_view) {
            return window.age.count() <= 0 ? std::string("expected an age above 0, e.g. 10000,10m") : std::string();
          }};
}

Codec<long long> size(Zero zero) {
  return {"size", parse_size, format_size, {}, [=](long long value, std::string_view) {
            return zero == Zero::refused && value < 1 ? std::string("expected at least 1 byte") : std::string();
          }};
}

Codec<double> number(std::function<std::string(double, std::string_view)> check) {
  return {"float", parse_number, format_number, {}, std::move(check)};
}

template <typename E>
Codec<E> choice(std::string note) {
  std::vector<std::string> listed;
  for (const auto& each : choices_of(E{})) {
    if (each.listed) listed.emplace_back(each.text);
  }
  std::string expected = "expected ";
  for (std::size_t i = 0; i < listed.size(); ++i) {
    expected += (i == 0 ? "" : i + 1 == listed.size() ? " or " : ", ") + listed[i];
  }
  expected += note;
  return {"enum",
          [=](std::string_view text) -> Parsed<E> {
            const auto wanted = upper(trim(text));
            for (const auto& each : choices_of(E{})) {
              if (upper(each.text) == wanted) return each.value;
            }
            return parse_error(expected);
          },
          [](E value) { return std::string(text_of(value)); }, listed};
}

Codec<std::optional<int>> port() {
  const std::string expected = "expected a port 1..65535, 0 for a free port, or off";
  return {"port",
          [=](std::string_view input) -> Parsed<std::optional<int>> {
            const auto text = trim(input);
            if (text == "off") return std::optional<int>();
            const auto number = parse_integer(text);
            if (number && *number >= 0 && *number <= 65535) return std::optional<int>(static_cast<int>(*number));
            return parse_error(text.starts_with("tcp://")
                                   ? "looks like a Kubernetes service variable (a service named kernel-http?); "
                                     "expected a port 0..65535 or off"
                                   : expected);
          },
          [](const std::optional<int>& value) { return value ? std::to_string(*value) : std::string("off"); },
          {},
          [=](const std::optional<int>& value, std::string_view) {
            return value && (*value < 0 || *value > 65535) ? expected : std::string();
          }};
}

Codec<std::string> ip_address() {
  return {"string",
          [](std::string_view input) -> Parsed<std::string> {
            auto text = trim(input);
            in6_addr ignored{};
            if (inet_pton(AF_INET, text.c_str(), &ignored) == 1 || inet_pton(AF_INET6, text.c_str(), &ignored) == 1) {
              return text;
            }
            return parse_error(
                "expected an IP address: 0.0.0.0 (all interfaces), 127.0.0.1 (this host only) or another "
                "address of this host");
          },
          [](const std::string& value) { return value; }};
}

template Codec<SecurityProtocol> choice(std::string);
template Codec<SaslMechanism> choice(std::string);
template Codec<Acks> choice(std::string);
template Codec<Compression> choice(std::string);
template Codec<StartOffset> choice(std::string);
template Codec<LogLevel> choice(std::string);
template Codec<LogFormat> choice(std::string);
template Codec<Ordering> choice(std::string);
template Codec<DeliveryGuarantee> choice(std::string);
template Codec<SubjectStrategy> choice(std::string);

}  // namespace config_detail::codec
}  // namespace kernel
