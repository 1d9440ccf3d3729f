// Fleet commands: key and value of a control-topic record, written and checked in one place.
#include "core/fleet_command.hpp"

#include <charconv>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/bounded_json.hpp"
#include "core/printable_text.hpp"
#include "core/rfc3339.hpp"
#include "kernel/config.hpp"

namespace kernel::detail {

namespace {

using json = nlohmann::json;

constexpr std::string_view kernel_key = "kernel";
constexpr std::string_view topic_key_prefix = "topic/";
constexpr std::string_view partition_key_prefix = "partition/";

FleetRecord malformed(std::string why) { return {std::nullopt, std::move(why)}; }

/// A partition number as written in a key: decimal digits, 0 to 2^31-1.
std::optional<std::int32_t> parse_partition(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  std::int32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0 || text.front() == '+') return std::nullopt;
  return value;
}

std::optional<FleetScope> parse_key(std::string_view key, std::string& why) {
  if (key == kernel_key) return FleetScope{};
  const bool per_topic = key.starts_with(topic_key_prefix);
  if (!per_topic && !key.starts_with(partition_key_prefix)) {
    why = "key \"" + printable_text(key, Quotes::escaped, 80) + "\" is not kernel, topic/T or partition/T/P";
    return std::nullopt;
  }
  auto rest = key.substr(per_topic ? topic_key_prefix.size() : partition_key_prefix.size());
  FleetScope scope;
  if (!per_topic) {
    const auto slash = rest.rfind('/');
    const auto number = slash == std::string_view::npos ? std::nullopt : parse_partition(rest.substr(slash + 1));
    if (!number) {
      why = "key \"" + printable_text(key, Quotes::escaped, 80) + "\" has no partition number after its topic";
      return std::nullopt;
    }
    scope.partition = *number;
    rest = rest.substr(0, slash);
  }
  if (const auto problem = topic_name_problem(rest); !problem.empty()) {
    why = "key's topic " + problem;
    return std::nullopt;
  }
  scope.topic = std::string(rest);
  return scope;
}

/// A short text field: absent or a string of printable characters within the bound.
bool read_text(const json& value, const char* field, bool required, std::string& out, std::string& why) {
  const auto found = value.find(field);
  if (found == value.end() || found->is_null()) {
    if (required) why = std::string("field \"") + field + "\" is missing";
    return !required;
  }
  if (!found->is_string()) {
    why = std::string("field \"") + field + "\" is not a string";
    return false;
  }
  const auto& text = found->get_ref<const std::string&>();
  if (text.size() > max_fleet_text_bytes) {
    why = std::string("field \"") + field + "\" is longer than " + std::to_string(max_fleet_text_bytes) + " bytes";
    return false;
  }
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      why = std::string("field \"") + field + "\" has a control character";
      return false;
    }
  }
  out = text;
  return true;
}

}  // namespace

std::string FleetScope::describe() const {
  if (topic.empty()) return "the kernel";
  if (partition < 0) return "topic " + topic;
  return topic + "[" + std::to_string(partition) + "]";
}

std::string fleet_key(const FleetScope& scope) {
  if (scope.topic.empty()) return std::string(kernel_key);
  if (scope.partition < 0) return std::string(topic_key_prefix) + scope.topic;
  return std::string(partition_key_prefix) + scope.topic + "/" + std::to_string(scope.partition);
}

std::string encode_fleet_command(const FleetCommand& command) {
  json value = {{"version", fleet_command_version},
                {"command", command.pause ? "pause" : "resume"},
                {"topic", command.scope.topic.empty() ? json(nullptr) : json(command.scope.topic)},
                {"partition", command.scope.partition < 0 ? json(nullptr) : json(command.scope.partition)},
                {"reason", command.reason},
                {"by", command.by},
                {"at", command.at}};
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

FleetRecord parse_fleet_record(std::optional<std::string_view> key, std::optional<std::string_view> value) {
  if (!key || key->empty()) return malformed("record has no key");
  if (key->size() > max_fleet_key_bytes) {
    return malformed("key is " + std::to_string(key->size()) + " bytes long: at most " +
                     std::to_string(max_fleet_key_bytes));
  }
  std::string why;
  auto scope = parse_key(*key, why);
  if (!scope) return malformed(std::move(why));
  FleetCommand command;
  command.scope = std::move(*scope);
  if (!value) {
    command.pause = false;
    command.tombstone = true;
    return {std::move(command), {}};
  }
  if (value->size() > max_fleet_command_bytes) {
    return malformed("value is " + std::to_string(value->size()) + " bytes long: at most " +
                     std::to_string(max_fleet_command_bytes));
  }
  json parsed;
  try {
    parsed = parse_bounded_json<json>(*value);
  } catch (const std::exception&) {
    return malformed("value is not JSON");
  }
  if (!parsed.is_object()) return malformed("value is not a JSON object");
  const auto version = parsed.find("version");
  if (version == parsed.end() || !version->is_number_integer() || *version != fleet_command_version) {
    return malformed("field \"version\" is not 1");
  }
  const auto verb = parsed.find("command");
  if (verb == parsed.end() || !verb->is_string() || (*verb != "pause" && *verb != "resume")) {
    return malformed("field \"command\" is neither \"pause\" nor \"resume\"");
  }
  command.pause = *verb == "pause";
  // The value names its scope again: a record whose key says otherwise is refused, since
  // compaction keeps records by key.
  FleetScope named;
  if (!read_text(parsed, "topic", false, named.topic, why)) return malformed(std::move(why));
  if (const auto partition = parsed.find("partition"); partition != parsed.end() && !partition->is_null()) {
    if (!partition->is_number_integer() || *partition < 0 || *partition > std::numeric_limits<std::int32_t>::max()) {
      return malformed("field \"partition\" is not a partition number");
    }
    named.partition = partition->get<std::int32_t>();
  }
  if (named != command.scope) {
    return malformed("value names " + named.describe() + " but the key is " + fleet_key(command.scope));
  }
  if (!read_text(parsed, "reason", false, command.reason, why)) return malformed(std::move(why));
  if (!read_text(parsed, "by", false, command.by, why)) return malformed(std::move(why));
  if (!read_text(parsed, "at", true, command.at, why)) return malformed(std::move(why));
  if (!try_parse_rfc3339(command.at)) return malformed("field \"at\" is not an RFC 3339 time");
  return {std::move(command), {}};
}

}  // namespace kernel::detail
