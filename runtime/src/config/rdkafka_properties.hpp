#pragma once
// Settings to librdkafka properties, KAFKA_PROPERTY_* and librdkafka's own check
// (rdkafka_properties.cpp).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/loaded.hpp"
#include "config/registry.hpp"

namespace kernel::config_detail {

/// `loop_producer` is the kernel loop's own producer: the producer's properties and, under
/// exactly_once, transactional.id, which no other producer sharing the configuration may use.
enum class Client { consumer, producer, loop_producer };
/// Is `property` the mapping's property, by its name or one of librdkafka's aliases?
bool names_property(const RdkafkaProperty& mapping, std::string_view property);
/// What librdkafka's own table (rd_kafka_conf_properties_show) says of a property.
struct PropertyScope {
  bool consumer = false;
  bool producer = false;
  /// The numeric range librdkafka accepts (`1 .. 2147483647` in its table), if it has one.
  std::optional<std::pair<long long, long long>> range;
  /// The property this name is librdkafka's alias for, or "".
  std::string alias_of;
};
/// From librdkafka's table, read once; nullopt for a name it does not know.
std::optional<PropertyScope> property_scope(std::string_view property);
/// One property under two names (linger.ms and its alias queue.buffering.max.ms)?
bool same_property(std::string_view a, std::string_view b);
/// The librdkafka properties for one client, in the order to set them. `certificate_location`
/// is the in-memory file holding the client certificate chain (empty when none).
std::vector<Property> build_properties(const Settings& settings, Client client,
                                       const std::string& certificate_location);
/// KAFKA_PROPERTY_LOG__LEVEL -> log_level; nullopt if the name is not of that form.
std::optional<std::string> passthrough_property_name(std::string_view variable);
/// Turns the KAFKA_PROPERTY_* entries into Settings::Passthrough, reporting unknown and
/// forbidden ones.
std::vector<Settings::Passthrough> read_passthrough(const std::map<std::string, RawValue, std::less<>>& variables,
                                                    Problems& problems);
/// Sets every property on a real rd_kafka_conf_t and, when that passes, creates (and at once
/// destroys) a client from it, reporting refusals in our variables' names.
void check_with_librdkafka(const std::vector<Property>& consumer, const std::vector<Property>& producer,
                           const Values& shown, Problems& problems);

}  // namespace kernel::config_detail
