// Lets librdkafka itself judge the properties before anything connects: each is set on a
// real rd_kafka_conf_t, then a client is created from it and destroyed at once, which runs
// the checks librdkafka makes between properties (and loads TLS material). Its refusals
// are reported in our variables' names.
#include <algorithm>
#include <librdkafka/rdkafka.h>

#include "config/config_detail.hpp"
#include "kernel/detail/rdkafka_handles.hpp"

namespace kernel::config_detail {

namespace {

using Shown = std::map<std::string, std::string, std::less<>>;

// The check client's logs ("no bootstrap.servers", TLS details) are not the user's concern:
// what matters comes back as an error string.
void discard_log(const rd_kafka_t*, int, const char*, const char*) {}

std::string shown_value(const Shown& shown, const Property& property) {
  const auto it = shown.find(property.variable);
  return it == shown.end() ? property.value : it->second;
}

void report(const Property& property, const Shown& shown, const std::string& message,
            Problems& problems) {
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

detail::ConfPtr make_conf(const std::vector<Property>& properties, const Shown& shown,
                          Problems& problems, bool& all_set) {
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
    if (rd_kafka_conf_set(conf.get(), property.name.c_str(), property.value.c_str(), error,
                          sizeof error) != RD_KAFKA_CONF_OK) {
      all_set = false;
      std::string message = trim(error);
      if (property.secret && !property.value.empty()) {
        for (auto at = message.find(property.value); at != std::string::npos;
             at = message.find(property.value, at)) {
          message.replace(at, property.value.size(), "***");
        }
      }
      report(property, shown,
             "librdkafka refuses " + property.name + "=" +
                 (property.secret ? std::string("***") : printable_value(property.value)) +
                 ": " + message,
             problems);
    }
  }
  return conf;
}

void try_create(rd_kafka_type_t type, detail::ConfPtr conf,
                const std::vector<Property>& properties, const Shown& shown,
                Problems& problems) {
  char error[512] = "";
  // rd_kafka_new takes ownership of the configuration only when it succeeds.
  detail::HandlePtr handle(rd_kafka_new(type, conf.get(), error, sizeof error));
  if (handle) {
    conf.release();
    return;  // destroyed here, before it could do anything
  }
  std::string message = trim(error);
  if (const auto* property = explain(message, properties)) {
    report(*property, shown, "librdkafka refuses this configuration: " + message, problems);
  } else {
    problems.add_general("librdkafka refuses the " +
                         std::string(type == RD_KAFKA_CONSUMER ? "consumer" : "producer") +
                         " configuration: " + mask_secrets(message));
  }
}

}  // namespace

void check_with_librdkafka(const std::vector<Property>& consumer,
                           const std::vector<Property>& producer, const Shown& shown,
                           Problems& problems) {
  const bool clean_before = problems.empty();
  bool all_set = true;
  auto consumer_conf = make_conf(consumer, shown, problems, all_set);
  auto producer_conf = make_conf(producer, shown, problems, all_set);
  // Creation reports one problem at a time and repeats what is already known, so it runs
  // only on an otherwise clean configuration.
  if (!clean_before || !all_set) return;
  try_create(RD_KAFKA_CONSUMER, std::move(consumer_conf), consumer, shown, problems);
  try_create(RD_KAFKA_PRODUCER, std::move(producer_conf), producer, shown, problems);
}

}  // namespace kernel::config_detail
