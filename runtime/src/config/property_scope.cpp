// KAFKA_PROPERTY_<NAME> pass-through: name mapping, which client(s) a property applies to,
// and which properties the runtime owns (they have a variable of their own, or changing
// them would break at-least-once).
#include <cstdio>
#include <cstdlib>

#include <librdkafka/rdkafka.h>

#include "config/config_detail.hpp"

namespace kernel::config_detail {

namespace {

constexpr std::string_view passthrough_prefix = "KAFKA_PROPERTY_";

using ScopeTable = std::map<std::string, PropertyScope, std::less<>>;

// "1 .. 2147483647" -> {1, 2147483647}; anything else (enums, strings) -> nullopt.
std::optional<std::pair<long long, long long>> parse_range(std::string_view text) {
  const auto dots = text.find(" .. ");
  if (dots == std::string_view::npos) return std::nullopt;
  std::string error;
  const auto low = parse_integer(text.substr(0, dots), error);
  const auto high = parse_integer(text.substr(dots + 4), error);
  if (!low || !high) return std::nullopt;
  return std::make_pair(*low, *high);
}

// librdkafka prints its property table (name | C/P | ...) only to a FILE*, so it is read
// through an in-memory stream; the library's own table stays the single source of truth.
ScopeTable read_scope_table() {
  char* buffer = nullptr;
  std::size_t size = 0;
  FILE* stream = open_memstream(&buffer, &size);
  ScopeTable table;
  if (stream == nullptr) return table;
  rd_kafka_conf_properties_show(stream);
  std::fclose(stream);
  const std::string text(buffer, size);
  std::free(buffer);

  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    const auto bar = line.find('|');
    if (bar == std::string_view::npos) continue;
    const auto name = trim(line.substr(0, bar));
    const auto next = line.find('|', bar + 1);
    if (next == std::string_view::npos) continue;
    const auto scope = trim(line.substr(bar + 1, next - bar - 1));
    if (name.empty() || name == "Property" || name.find('-') == 0) continue;
    PropertyScope entry{scope == "*" || scope == "C", scope == "*" || scope == "P", std::nullopt};
    if (!entry.consumer && !entry.producer) continue;
    const auto after = line.find('|', next + 1);
    if (after != std::string_view::npos) entry.range = parse_range(trim(line.substr(next + 1, after - next - 1)));
    table.try_emplace(name, entry);  // the global section comes first and wins
  }
  return table;
}

const ScopeTable& scope_table() {
  static const ScopeTable table = read_scope_table();
  return table;
}

}  // namespace

std::optional<PropertyScope> property_scope(std::string_view property) {
  const auto& table = scope_table();
  const auto it = table.find(property);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

std::string property_range_problem(std::string_view property, std::string_view value, std::string_view unit) {
  const auto scope = property_scope(property);
  if (!scope || !scope->range) return {};
  const auto text = trim(value);
  const auto digits = std::string_view(text).substr(text.starts_with('-') ? 1 : 0);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return {};
  const auto [low, high] = *scope->range;
  std::string error;
  const auto number = parse_integer(text, error);  // nullopt: beyond 64 bits
  const bool too_small = number ? *number < low : text.starts_with('-');
  const bool too_large = number ? *number > high : !text.starts_with('-');
  if (!too_small && !too_large) return {};
  return std::string(too_large ? "too large" : "too small") + " for " + std::string(property) + ", which takes " +
         std::to_string(low) + " to " + std::to_string(high) + (unit.empty() ? "" : " ") + std::string(unit);
}

std::string closest_property(std::string_view property) {
  std::vector<std::string> names;
  for (const auto& [name, scope] : scope_table()) names.push_back(name);
  return closest(property, names);
}

std::optional<std::string> owning_variable(std::string_view property) {
  // librdkafka aliases are listed too: acks and request.required.acks are one property.
  static const std::map<std::string, std::string, std::less<>> owners{
      {"enable.auto.commit", "nothing: the kernel commits only completed offsets itself"},
      {"auto.commit.enable", "nothing: the kernel commits only completed offsets itself"},
      {"enable.auto.offset.store", "nothing: the kernel stores only completed offsets itself"},
      {"acks", "KAFKA_PRODUCER_REQUIRE_ACKS"},
      {"request.required.acks", "KAFKA_PRODUCER_REQUIRE_ACKS"},
      {"enable.idempotence", "KAFKA_PRODUCER_IDEMPOTENCE"},
      {"retries", "KAFKA_PRODUCER_MAX_ATTEMPTS"},
      {"message.send.max.retries", "KAFKA_PRODUCER_MAX_ATTEMPTS"},
      {"auto.offset.reset", "KAFKA_CONSUMER_START_OFFSET"},
      {"bootstrap.servers", "KAFKA_BOOTSTRAP_SERVERS"},
      {"metadata.broker.list", "KAFKA_BOOTSTRAP_SERVERS"},
      {"group.id", "KAFKA_CONSUMER_GROUP"},
      {"group.instance.id", "KAFKA_CONSUMER_INSTANCE_ID"},
      {"client.id", "KAFKA_CLIENT_ID"},
      {"security.protocol", "KAFKA_SECURITY_PROTOCOL"},
      {"ssl.ca.pem", "KAFKA_CA_CERT"},
      {"ssl.certificate.pem", "KAFKA_CLIENT_CERT"},
      {"ssl.key.pem", "KAFKA_CLIENT_KEY"},
      {"ssl.key.password", "KAFKA_CLIENT_KEY_PASSWORD"},
      {"sasl.mechanism", "KAFKA_SASL_MECHANISM"},
      {"sasl.mechanisms", "KAFKA_SASL_MECHANISM"},
      {"sasl.username", "KAFKA_SASL_USERNAME"},
      {"sasl.password", "KAFKA_SASL_PASSWORD"},
      {"partition.assignment.strategy",
       "nothing: the kernel's rebalance handling needs cooperative-sticky"},
      {"enable.partition.eof", "nothing: the kernel's poll loop does not expect EOF events"},
      {"transactional.id", "nothing: the kernel does not use transactions"},
  };
  const auto it = owners.find(property);
  if (it == owners.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> passthrough_property_name(std::string_view variable) {
  if (!variable.starts_with(passthrough_prefix)) return std::nullopt;
  const auto name = variable.substr(passthrough_prefix.size());
  if (name.empty()) return std::nullopt;
  std::string property;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '_' && i + 1 < name.size() && name[i + 1] == '_') {
      property += '_';  // `__` is a literal underscore (log_level)
      ++i;
    } else if (name[i] == '_') {
      property += '.';
    } else {
      property += static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
    }
  }
  return property;
}

std::vector<Settings::Passthrough> read_passthrough(
    const std::map<std::string, RawValue, std::less<>>& variables, Problems& problems) {
  std::vector<Settings::Passthrough> passthrough;
  for (const auto& [variable, raw] : variables) {
    const auto property = passthrough_property_name(variable);
    if (!property) {
      if (variable == passthrough_prefix) {
        problems.add(variable, raw.text,
                     "names no librdkafka property; expected KAFKA_PROPERTY_<NAME>, e.g. "
                     "KAFKA_PROPERTY_SOCKET_TIMEOUT_MS");
      }
      continue;
    }
    if (auto owner = owning_variable(*property)) {
      const bool none = owner->starts_with("nothing");
      problems.add(variable, raw.text,
                   *property + " is set by the runtime" +
                       (none ? " and cannot be changed (" + owner->substr(9) + ")"
                             : "; use " + *owner + " instead"));
      continue;
    }
    const auto scope = property_scope(*property);
    if (!scope) {
      problems.add(variable, raw.text,
                   "unknown librdkafka property " + *property + "; did you mean " +
                       closest_property(*property) + "?");
      continue;
    }
    passthrough.push_back({*property, raw.text, variable, scope->consumer, scope->producer});
  }
  return passthrough;
}

}  // namespace kernel::config_detail
