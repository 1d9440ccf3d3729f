// kernel::testing::TestContext(spec): a handler test gets the kernel's own settings and named
// outputs from the spec main() runs, so a setting is declared once.
#include <doctest/doctest.h>

#include <string>

#include "kernel/config.hpp"
#include "kernel/testing.hpp"

namespace {

kernel::KernelSpec orders_spec() {
  kernel::KernelSpec spec;
  spec.name = "orders-enricher";
  spec.input_topics = {"orders"};
  spec.output_topic = "orders.enriched";
  spec.settings = {{.name = "HIGH_PRIORITY_AMOUNT", .type = kernel::SettingType::number, .default_value = "100"},
                   {.name = "API_KEY", .type = kernel::SettingType::string, .secret = true}};
  spec.outputs = {{"audit", "orders.audit"}};
  return spec;
}

}  // namespace

TEST_CASE("TestContext(spec) reads settings at their defaults and as the given variables set them") {
  kernel::testing::TestContext context(orders_spec(), {{"ORDERS_ENRICHER_API_KEY", "test-key"}});
  CHECK(context.setting<double>("HIGH_PRIORITY_AMOUNT") == 100.0);
  CHECK(context.setting<std::string>("API_KEY") == "test-key");
}

TEST_CASE("TestContext(spec) produces to the spec's named outputs and default output topic") {
  kernel::testing::TestContext context(orders_spec(), {{"ORDERS_ENRICHER_API_KEY", "test-key"}});
  context.produce_to("audit", kernel::Outgoing{}.text("a"));
  context.produce(kernel::Outgoing{}.text("b"));
  REQUIRE(context.produced().size() == 2);
  CHECK(context.produced()[0].topic() == "orders.audit");
  CHECK(context.produced()[1].topic().empty());  // the kernel's output topic
}

TEST_CASE("TestContext(spec) with a required setting left unset throws a ConfigError naming it") {
  CHECK_THROWS_WITH_AS(kernel::testing::TestContext{orders_spec()}, doctest::Contains("ORDERS_ENRICHER_API_KEY"),
                       kernel::ConfigError);
}
