// Config is a value: its settings sit behind a pointer (so kernel/config.hpp only declares
// them), and copies and moves still behave as they did when it held them directly.
#include <doctest/doctest.h>

#include <utility>

#include "config/settings.hpp"

namespace config_value_test {

using namespace kernel;

namespace {

Config embedded_config() {
  Settings settings;
  settings.kernel_name = "orders-enricher";
  settings.bootstrap_servers = "broker:9092";
  settings.input_topics = {"orders"};
  settings.dlq_topic = "orders-enricher.dlq";
  settings.group_id = settings.client_id = "orders-enricher";
  return Config::from_settings(settings);
}

}  // namespace

TEST_CASE("config value: a default Config holds the registry's defaults") {
  const Config config;
  CHECK(config.settings().max_poll_records == Settings().max_poll_records);
  CHECK(config.settings().log_level == Settings().log_level);
}

TEST_CASE("config value: a copy has settings of its own") {
  auto original = embedded_config();
  auto copy = original;
  copy.use_bootstrap_servers("embedded");
  copy.set_group_id("throwaway");
  CHECK(&copy.settings() != &original.settings());
  CHECK(copy.settings().bootstrap_servers == "embedded");
  CHECK(copy.settings().embedded);
  CHECK(copy.source_of(env_var::KAFKA_CONSUMER_GROUP) == "code");
  CHECK(original.settings().bootstrap_servers == "broker:9092");
  CHECK_FALSE(original.settings().embedded);
  CHECK(original.settings().group_id == "orders-enricher");

  Config assigned;
  assigned = original;
  CHECK(assigned.settings().group_id == "orders-enricher");
  assigned.set_group_id("other");
  CHECK(original.settings().group_id == "orders-enricher");
}

TEST_CASE("config value: a move takes the settings without copying them") {
  auto original = embedded_config();
  const auto* settings = &original.settings();
  Config moved(std::move(original));
  CHECK(&moved.settings() == settings);
  Config assigned;
  assigned = std::move(moved);
  CHECK(&assigned.settings() == settings);
  CHECK(assigned.settings().group_id == "orders-enricher");
}

}  // namespace config_value_test
