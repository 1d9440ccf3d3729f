// Settings to librdkafka properties, per client, in a fixed order: the registry's rows, each
// with the properties it declares, then what the runtime fixes on a consumer, then
// KAFKA_PROPERTY_* pass-through (which may override a tuning default).
// Then librdkafka itself judges them before anything connects: each is set on a real
// rd_kafka_conf_t, and a client is created from it and destroyed at once, which runs the
// checks librdkafka makes between properties (and loads TLS material). Its refusals are
// reported in our variables' names.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

#include <librdkafka/rdkafka.h>

#include "config/rdkafka_properties.hpp"
#include "config/registry_lookup.hpp"
#include "config/secrets.hpp"
#include "config/transactional_id.hpp"
#include "config/validate.hpp"
#include "config/values.hpp"
#include "kernel/detail/rdkafka_client.hpp"
#include "kernel/detail/rdkafka_handles.hpp"

namespace kernel::config_detail {

namespace {

/// A property the runtime sets on every consumer whatever the configuration says.
struct FixedProperty {
  std::string_view name;
  std::string_view alias;  ///< librdkafka's other name for it, or ""
  std::string_view value;  ///< "": left to librdkafka's default, only refused
  /// Why a KAFKA_PROPERTY_* may not change it; "": it may (a tuning default).
  std::string_view why_fixed;
};

constexpr std::array<FixedProperty, 5> fixed_consumer_properties{{
    {"enable.auto.commit", "auto.commit.enable", "false", "the kernel commits only completed offsets itself"},
    {"enable.auto.offset.store", "", "false", "the kernel stores only completed offsets itself"},
    {"partition.assignment.strategy", "", "cooperative-sticky",
     "the kernel's rebalance handling needs cooperative-sticky"},
    // librdkafka's own default (1 GB per partition queue) lets a slow handler hold a lot of
    // memory; 16 MB keeps a kernel's footprint modest.
    {"queued.max.messages.kbytes", "", "16384", ""},
    {"enable.partition.eof", "", "", "the kernel's poll loop does not expect EOF events"},
}};

bool sets_on(RdkafkaClients clients, Client client) {
  switch (clients) {
    case RdkafkaClients::both: return true;
    case RdkafkaClients::consumer: return client == Client::consumer;
    case RdkafkaClients::producer: return client != Client::consumer;
    case RdkafkaClients::transactional_producer: return client == Client::loop_producer;
  }
  return false;
}

// ---- librdkafka's own property table -------------------------------------------------

constexpr std::string_view passthrough_prefix = env_var::KAFKA_PROPERTY_PREFIX;

using ScopeTable = std::map<std::string, PropertyScope, std::less<>>;

// "1 .. 2147483647" -> {1, 2147483647}; anything else (enums, strings) -> nullopt.
std::optional<std::pair<long long, long long>> parse_range(std::string_view text) {
  const auto dots = text.find(" .. ");
  if (dots == std::string_view::npos) return std::nullopt;
  const auto low = parse_integer(text.substr(0, dots));
  const auto high = parse_integer(text.substr(dots + 4));
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
    PropertyScope entry{scope == "*" || scope == "C", scope == "*" || scope == "P", std::nullopt, {}};
    if (!entry.consumer && !entry.producer) continue;
    const auto after = line.find('|', next + 1);
    if (after != std::string_view::npos) entry.range = parse_range(trim(line.substr(next + 1, after - next - 1)));
    // The description is the last column: "Alias for `metadata.broker.list`: ..."
    constexpr std::string_view alias_mark = "Alias for `";
    if (const auto alias = line.rfind('|'); alias != std::string_view::npos) {
      const auto description = line.substr(alias + 1);
      if (const auto at = description.find(alias_mark); at != std::string_view::npos) {
        const auto start_name = at + alias_mark.size();
        const auto end_name = description.find('`', start_name);
        if (end_name != std::string_view::npos) entry.alias_of = description.substr(start_name, end_name - start_name);
      }
    }
    table.try_emplace(name, entry);  // the global section comes first and wins
  }
  return table;
}

const ScopeTable& scope_table() {
  static const ScopeTable table = read_scope_table();
  return table;
}

/// What is wrong with a whole-number `value` for a property with a numeric range ("too large
/// for fetch.max.bytes, which takes 0 to 2147483135"), or empty. librdkafka reads numbers
/// with strtol and keeps 32 bits, so it would take 2^32 + 1 as 1; this check comes first.
/// Values that are not whole numbers are left to librdkafka.
std::string property_range_problem(std::string_view property, std::string_view value, std::string_view unit) {
  const auto scope = property_scope(property);
  if (!scope || !scope->range) return {};
  const auto text = trim(value);
  const auto digits = std::string_view(text).substr(text.starts_with('-') ? 1 : 0);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return {};
  const auto [low, high] = *scope->range;
  const auto number = parse_integer(text);  // no value: beyond 64 bits
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

/// The variable to use instead when a KAFKA_PROPERTY_* sets a property the runtime owns, or
/// "nothing: why" when no variable changes it.
std::optional<std::string> owning_variable(std::string_view property) {
  for (const auto& spec : config_registry()) {
    for (const auto& mapping : spec.rdkafka) {
      if (mapping.owned && names_property(mapping, property)) return spec.name;
    }
  }
  for (const auto& fixed : fixed_consumer_properties) {
    if (!fixed.why_fixed.empty() && (fixed.name == property || fixed.alias == property)) {
      return "nothing: " + std::string(fixed.why_fixed);
    }
  }
  return std::nullopt;
}

// ---- librdkafka's check --------------------------------------------------------------------

// The check client's logs ("no bootstrap.servers", TLS details) are not the user's concern:
// what matters comes back as an error string.
void discard_log(const rd_kafka_t*, int, const char*, const char*) {}

std::string shown_value(const Values& shown, const Property& property) {
  const auto it = shown.find(property.variable);
  return it == shown.end() ? property.value : it->second;
}

void report(const Property& property, const Values& shown, const std::string& message, Problems& problems) {
  if (property.variable.empty()) {
    problems.add_general("librdkafka refuses " + property.name + ": " + mask_secrets(message));
  } else if (!problems.mentions(property.variable)) {
    problems.add(property.variable, shown_value(shown, property), mask_secrets(message));
  }
}

/// Replaces each property name in a librdkafka message with "name (VARIABLE)" and returns
/// the first property it mentions that a variable set.
const Property* explain(std::string& message, const std::vector<Property>& properties) {
  const Property* first = nullptr;
  std::size_t first_position = std::string::npos;
  for (const auto& property : properties) {
    if (property.variable.empty()) continue;
    for (const std::string_view quote : {"`", "\"", ""}) {
      const auto needle = std::string(quote) + property.name + std::string(quote);
      const auto at = message.find(needle);
      if (at == std::string::npos) continue;
      message.replace(at, needle.size(), needle + " (" + property.variable + ")");
      if (at < first_position) {
        first_position = at;
        first = &property;
      }
      break;
    }
  }
  return first;
}

detail::ConfPtr make_conf(const std::vector<Property>& properties, const Values& shown, Problems& problems,
                          bool& all_set) {
  detail::ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), discard_log);
  char error[512];
  for (const auto& property : properties) {
    // Without brokers the check client cannot connect anywhere.
    if (property.name == "bootstrap.servers") continue;
    if (!property.variable.empty()) {
      const auto* spec = find_variable(property.variable);
      const auto unit = spec == nullptr ? "" : spec->type == "size" ? "bytes" : spec->type == "duration" ? "ms" : "";
      if (auto why = property_range_problem(property.name, property.value, unit); !why.empty()) {
        all_set = false;
        report(property, shown, why, problems);
        continue;
      }
    }
    error[0] = '\0';
    if (rd_kafka_conf_set(conf.get(), property.name.c_str(), property.value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      all_set = false;
      std::string message = trim(error);
      if (property.secret && !property.value.empty()) {
        for (auto at = message.find(property.value); at != std::string::npos; at = message.find(property.value, at)) {
          message.replace(at, property.value.size(), "***");
        }
      }
      report(property, shown,
             "librdkafka refuses " + property.name + "=" +
                 (property.secret ? std::string("***") : printable_value(property.value)) + ": " + message,
             problems);
    }
  }
  return conf;
}

void try_create(detail::ClientType type, detail::ConfPtr conf, const std::vector<Property>& properties,
                const Values& shown, Problems& problems) {
  const auto client = detail::create_client(type, conf);
  if (client) return;  // destroyed here, before it could do anything
  std::string message = trim(client.message);
  if (const auto* property = explain(message, properties)) {
    report(*property, shown, "librdkafka refuses this configuration: " + message, problems);
  } else {
    problems.add_general("librdkafka refuses the " +
                         std::string(type == detail::ClientType::consumer ? "consumer" : "producer") +
                         " configuration: " + mask_secrets(message));
  }
}

}  // namespace

std::optional<PropertyScope> property_scope(std::string_view property) {
  const auto& table = scope_table();
  const auto it = table.find(property);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

bool same_property(std::string_view a, std::string_view b) {
  if (a == b) return true;
  const auto scope_a = property_scope(a);
  const auto scope_b = property_scope(b);
  return (scope_a && scope_a->alias_of == b) || (scope_b && scope_b->alias_of == a);
}

bool names_property(const RdkafkaProperty& mapping, std::string_view property) {
  return mapping.name == property ||
         std::find(mapping.aliases.begin(), mapping.aliases.end(), property) != mapping.aliases.end();
}

std::vector<Property> build_properties(const Settings& s, Client client, const std::string& certificate_location) {
  std::vector<Property> out;
  for (const auto& spec : config_registry()) {
    for (const auto& mapping : spec.rdkafka) {
      if (!sets_on(mapping.clients, client)) continue;
      auto value = mapping.value(s);
      if (!value) continue;
      Property property{mapping.name, std::move(*value), spec.name, spec.secret, mapping.derived};
      if (property.name == "transactional.id" && property.value.empty()) property.value = transactional_id(s);
      // The chain goes through an in-memory file: ssl.certificate.pem would send only its
      // first certificate, and a broker then cannot verify a cert issued by an intermediate.
      if (property.name == "ssl.certificate.pem" && !certificate_location.empty()) {
        property.name = "ssl.certificate.location";
        property.value = certificate_location;
      }
      out.push_back(std::move(property));
    }
  }
  if (client == Client::consumer) {
    for (const auto& fixed : fixed_consumer_properties) {
      if (!fixed.value.empty()) out.push_back({std::string(fixed.name), std::string(fixed.value), ""});
    }
  }

  // KAFKA_PROPERTY_* last: it may override a tuning default in place.
  for (const auto& p : s.passthrough) {
    if (client == Client::consumer ? !p.consumer : !p.producer) continue;
    const bool secret = is_secret_property(p.property);
    auto same =
        std::find_if(out.begin(), out.end(), [&](const Property& existing) { return existing.name == p.property; });
    if (same != out.end()) {
      *same = {p.property, p.value, p.variable, secret};
    } else {
      out.push_back({p.property, p.value, p.variable, secret});
    }
  }
  return out;
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

std::vector<Settings::Passthrough> read_passthrough(const std::map<std::string, RawValue, std::less<>>& variables,
                                                    Problems& problems) {
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
                       (none ? " and cannot be changed (" + owner->substr(9) + ")" : "; use " + *owner + " instead"));
      continue;
    }
    const auto scope = property_scope(*property);
    if (!scope) {
      problems.add(variable, raw.text,
                   "unknown librdkafka property " + *property + "; did you mean " + closest_property(*property) + "?");
      continue;
    }
    passthrough.push_back({*property, raw.text, variable, scope->consumer, scope->producer});
  }
  return passthrough;
}

void check_with_librdkafka(const std::vector<Property>& consumer, const std::vector<Property>& producer,
                           const Values& shown, Problems& problems) {
  const bool clean_before = problems.empty();
  bool all_set = true;
  auto consumer_conf = make_conf(consumer, shown, problems, all_set);
  auto producer_conf = make_conf(producer, shown, problems, all_set);
  // Creation reports one problem at a time and repeats what is already known, so it runs
  // only on an otherwise clean configuration.
  if (!clean_before || !all_set) return;
  try_create(detail::ClientType::consumer, std::move(consumer_conf), consumer, shown, problems);
  try_create(detail::ClientType::producer, std::move(producer_conf), producer, shown, problems);
}

}  // namespace kernel::config_detail
