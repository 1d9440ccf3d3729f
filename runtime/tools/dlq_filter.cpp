#include "dlq_filter.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>

#include <nlohmann/json.hpp>

#include "core/rfc3339.hpp"
#include "kernel/errors.hpp"
#include "kernel/run.hpp"

namespace kernel::tools::dlq {

std::optional<std::string> header_of(const jsonl::Record& record, std::string_view name) {
  for (std::size_t i = record.headers.size(); i-- > 0;) {
    if (record.headers[i].first != name) continue;
    if (record.headers.is_null(i)) return std::nullopt;
    return record.headers[i].second;
  }
  return std::nullopt;
}

std::optional<std::int64_t> failed_at_ms(const jsonl::Record& record) {
  if (const auto text = header_of(record, "dlq-failed-at")) {
    if (const auto when = detail::try_parse_rfc3339(*text)) return when;
  }
  return record.timestamp_ms;
}

const std::vector<std::string>& failure_reasons() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto reason : all_failure_reasons) out.emplace_back(to_string(reason));
    return out;
  }();
  return names;
}

namespace {

/// `30s`, `30m`, `2h`, `7d`, or a sum of them (`1h30m`), in milliseconds; whole numbers only.
std::optional<std::int64_t> parse_duration_ago(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  while (!text.empty()) {
    std::int64_t number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error != std::errc() || end == text.data() || text.front() == '-' || text.front() == '+') return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    std::int64_t unit = 0;
    if (text.starts_with("s"))
      unit = 1000;
    else if (text.starts_with("m"))
      unit = 60'000;
    else if (text.starts_with("h"))
      unit = 3'600'000;
    else if (text.starts_with("d"))
      unit = 86'400'000;
    if (unit == 0) return std::nullopt;
    text.remove_prefix(1);
    // Beyond about 290 million years the milliseconds no longer fit.
    if (number > (std::int64_t{1} << 62) / unit - total / unit) return std::nullopt;
    total += number * unit;
  }
  return total;
}

std::string hex_sha256(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

}  // namespace

TimeArgument parse_time_argument(std::string_view option, const std::string& text, std::int64_t now_ms) {
  if (const auto ago = parse_duration_ago(text)) return {text, now_ms - *ago, true};
  try {
    return {text, detail::parse_rfc3339(text), false};
  } catch (const detail::Rfc3339Error& error) {
    // A date (`2026-...`) gets the parser's own reason; anything else both forms.
    if (text.size() > 4 && text[4] == '-') throw Failure{exit_code::usage, std::string(option) + ": " + error.what()};
  }
  throw Failure{exit_code::usage, std::string(option) + " \"" + text +
                                      "\": expected an RFC 3339 time with a zone (2026-11-23T03:00:00Z) or a "
                                      "duration ago (30m, 2h, 7d)"};
}

void Filter::check() const {
  const auto& known = failure_reasons();
  for (const auto& reason : reasons) {
    if (std::find(known.begin(), known.end(), reason) != known.end()) continue;
    std::string list;
    for (const auto& name : known) list += (list.empty() ? "" : ", ") + name;
    throw Failure{exit_code::usage, "--reason \"" + reason + "\": expected one of " + list};
  }
}

Verdict Filter::judge(const jsonl::Record& record) const {
  if (!reasons.empty()) {
    const auto reason = header_of(record, "dlq-failure-reason");
    if (!reason || std::find(reasons.begin(), reasons.end(), *reason) == reasons.end()) return Verdict::excluded;
  }
  if (key && record.key != key) return Verdict::excluded;
  if (since || until) {
    const auto when = failed_at_ms(record);
    if (!when) return Verdict::excluded;  // no time to compare: never taken by a time filter
    if (since && *when < since->epoch_ms) return Verdict::excluded;
    if (until && *when > until->epoch_ms) return until->relative ? Verdict::not_yet : Verdict::excluded;
  }
  return Verdict::take;
}

std::string Filter::canonical() const {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : " ") + part; };
  if (!reasons.empty()) {
    auto sorted = reasons;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    std::string list;
    for (const auto& reason : sorted) list += (list.empty() ? "" : ",") + reason;
    add("reason=" + list);
  }
  if (key) {
    add(jsonl::is_valid_utf8(*key) ? "key=" + nlohmann::json(*key).dump() : "key_base64=" + jsonl::base64_encode(*key));
  }
  auto time = [](const TimeArgument& t) { return t.relative ? t.text : jsonl::format_timestamp(t.epoch_ms); };
  if (since) add("since=" + time(*since));
  if (until) add("until=" + time(*until));
  return out;
}

std::string replay_group(const std::string& source, const std::string& target, const Filter& filter) {
  const auto filters = filter.canonical();
  return "kernel-admin.dlq-replay." + source + "." + (target.empty() ? "original" : target) + "." +
         (filters.empty() ? "all" : hex_sha256(filters).substr(0, 16));
}

}  // namespace kernel::tools::dlq
