// A kernel's own settings and named outputs: every type and its bad values, required
// settings, .env, misspellings, secret masking, declaration checks, the reference and
// Context::setting<T>() / produce_to().
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "kernel/context.hpp"
#include "kernel/errors.hpp"
#include "kernel/testing.hpp"

#include "config_problems.hpp"

namespace kernel_settings_test {

using namespace kernel;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path no_dotenv = "/nonexistent-dir/.env";

KernelDefaults router() {
  KernelDefaults kernel{"order-router", {"orders"}, std::string("orders.routed")};
  kernel.settings = {
      {.name = "BATCH_SIZE", .type = SettingType::integer, .default_value = "100", .description = "rows per insert"},
      {.name = "RATIO", .type = SettingType::number, .default_value = "0.5", .description = "share"},
      {.name = "DRY_RUN", .type = SettingType::boolean, .default_value = "false", .description = "write nothing"},
      {.name = "POLL_EVERY", .type = SettingType::duration, .default_value = "2s", .description = "poll period"},
      {.name = "BUFFER", .type = SettingType::size, .default_value = "1MiB", .description = "buffer size"},
      {.name = "MODE",
       .type = SettingType::enumeration,
       .default_value = "fast",
       .description = "how",
       .choices = {"fast", "safe"}},
      {.name = "REGIONS", .type = SettingType::list, .default_value = "eu,us", .description = "regions"},
      {.name = "LABEL", .type = SettingType::string, .default_value = "", .description = "free text"},
      {.name = "API_KEY", .type = SettingType::string, .description = "key of the pricing API", .secret = true},
  };
  kernel.outputs = {{"international", "orders.intl"}, {"audit-log", "orders.audit"}};
  return kernel;
}

Config load(Environment env, const KernelDefaults& kernel = router(), const std::filesystem::path& dotenv = no_dotenv) {
  env.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092");
  env.try_emplace("ORDER_ROUTER_API_KEY", "s3cr3t-key-value");
  return Config::load(kernel, env, RunMode::production, dotenv);
}

std::vector<std::string> problems_of(Environment env, const KernelDefaults& kernel = router()) {
  return config_problems::problems_from([&] { load(std::move(env), kernel); });
}

std::string only_problem(Environment env) {
  return config_problems::only_problem_from([&] { load(std::move(env)); });
}

using config_problems::contains;

}  // namespace

TEST_CASE("kernel settings: the variable is the kernel's name upper-cased, dashes as underscores") {
  CHECK(setting_variable("order-router", "BATCH_SIZE") == "ORDER_ROUTER_BATCH_SIZE");
  CHECK(output_variable("international") == "KAFKA_OUTPUT_TOPIC_INTERNATIONAL");
  CHECK(output_variable("audit-log") == "KAFKA_OUTPUT_TOPIC_AUDIT_LOG");
}

TEST_CASE("kernel settings: defaults, typed") {
  const auto config = load({});
  const auto& values = config.settings().kernel_values;
  CHECK(values.get<int>("BATCH_SIZE") == 100);
  CHECK(values.get<long long>("BATCH_SIZE") == 100);
  CHECK(values.get<double>("RATIO") == doctest::Approx(0.5));
  CHECK(values.get<bool>("DRY_RUN") == false);
  CHECK(values.get<std::chrono::milliseconds>("POLL_EVERY") == 2s);
  CHECK(values.get<std::chrono::seconds>("POLL_EVERY") == 2s);
  CHECK(values.get<long long>("BUFFER") == 1024 * 1024);
  CHECK(values.get<std::string>("MODE") == "fast");
  CHECK(values.get<std::vector<std::string>>("REGIONS") == std::vector<std::string>{"eu", "us"});
  CHECK(values.get<std::string>("LABEL").empty());
  CHECK(values.get<std::string>("API_KEY") == "s3cr3t-key-value");
  CHECK(config.source_of("ORDER_ROUTER_BATCH_SIZE") == "default");
  CHECK(config.source_of("ORDER_ROUTER_API_KEY") == "env");
}

TEST_CASE("kernel settings: every type read from the environment") {
  const auto config = load({{"ORDER_ROUTER_BATCH_SIZE", "250"},
                            {"ORDER_ROUTER_RATIO", "0.75"},
                            {"ORDER_ROUTER_DRY_RUN", "yes"},
                            {"ORDER_ROUTER_POLL_EVERY", "1m"},
                            {"ORDER_ROUTER_BUFFER", "10MB"},
                            {"ORDER_ROUTER_MODE", "SAFE"},
                            {"ORDER_ROUTER_REGIONS", "eu, apac"},
                            {"ORDER_ROUTER_LABEL", " blue "}});
  const auto& values = config.settings().kernel_values;
  CHECK(values.get<int>("BATCH_SIZE") == 250);
  CHECK(values.get<double>("RATIO") == doctest::Approx(0.75));
  CHECK(values.get<bool>("DRY_RUN"));
  CHECK(values.get<std::chrono::milliseconds>("POLL_EVERY") == 60s);
  CHECK(values.get<long long>("BUFFER") == 10'000'000);
  CHECK(values.get<std::string>("MODE") == "safe");  // the declared spelling
  CHECK(values.get<std::vector<std::string>>("REGIONS") == std::vector<std::string>{"eu", "apac"});
  CHECK(values.get<std::string>("LABEL") == "blue");
  CHECK(config.source_of("ORDER_ROUTER_MODE") == "env");
}

TEST_CASE("kernel settings: bad values, each named, all at once") {
  SUBCASE("int") {
    CHECK(contains(only_problem({{"ORDER_ROUTER_BATCH_SIZE", "many"}}),
                   "ORDER_ROUTER_BATCH_SIZE=\"many\": expected a whole number"));
  }
  SUBCASE("double") { CHECK(contains(only_problem({{"ORDER_ROUTER_RATIO", "half"}}), "ORDER_ROUTER_RATIO=\"half\"")); }
  SUBCASE("bool") {
    CHECK(contains(only_problem({{"ORDER_ROUTER_DRY_RUN", "maybe"}}), "ORDER_ROUTER_DRY_RUN=\"maybe\""));
  }
  SUBCASE("duration without a unit") {
    CHECK(contains(only_problem({{"ORDER_ROUTER_POLL_EVERY", "5"}}), "ORDER_ROUTER_POLL_EVERY=\"5\""));
  }
  SUBCASE("size") { CHECK(contains(only_problem({{"ORDER_ROUTER_BUFFER", "big"}}), "ORDER_ROUTER_BUFFER=\"big\"")); }
  SUBCASE("enum") {
    CHECK(only_problem({{"ORDER_ROUTER_MODE", "slow"}}) ==
          "config error: ORDER_ROUTER_MODE=\"slow\": expected one of fast, safe");
  }
  SUBCASE("all at once, with the runtime's") {
    const auto problems = problems_of({{"ORDER_ROUTER_BATCH_SIZE", "x"},
                                       {"ORDER_ROUTER_MODE", "y"},
                                       {env_var::KAFKA_CONSUMER_START_OFFSET, "sideways"}});
    CHECK(problems.size() == 3);
  }
}

TEST_CASE("kernel settings: a required setting left unset is a problem naming it") {
  auto kernel = router();
  const auto problems = [&] {
    try {
      Config::load(kernel, {{env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092"}}, RunMode::production, no_dotenv);
    } catch (const ConfigError& error) {
      return error.problems();
    }
    return std::vector<std::string>{};
  }();
  REQUIRE(problems.size() == 1);
  CHECK(contains(problems.front(), "config error: ORDER_ROUTER_API_KEY: required by order-router"));
  CHECK(contains(problems.front(), "key of the pricing API"));
}

TEST_CASE("kernel settings: .env counts, the environment wins") {
  const auto dir = std::filesystem::temp_directory_path() / "kernel-settings-dotenv";
  std::filesystem::create_directories(dir);
  {
    std::ofstream file(dir / ".env");
    file << "ORDER_ROUTER_BATCH_SIZE=7\nORDER_ROUTER_MODE=safe\n";
  }
  const auto config = load({{"ORDER_ROUTER_MODE", "fast"}}, router(), dir / ".env");
  CHECK(config.settings().kernel_values.get<int>("BATCH_SIZE") == 7);
  CHECK(config.source_of("ORDER_ROUTER_BATCH_SIZE") == ".env");
  CHECK(config.settings().kernel_values.get<std::string>("MODE") == "fast");
  std::filesystem::remove_all(dir);
}

TEST_CASE("kernel settings: a close misspelling gets a did-you-mean warning") {
  SUBCASE("with the kernel's prefix") {
    const auto config = load({{"ORDER_ROUTER_BATCH_SIZ", "5"}});
    const auto& warnings = config.warnings();
    CHECK(std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) {
      return contains(w, "unknown variable ORDER_ROUTER_BATCH_SIZ: did you mean ORDER_ROUTER_BATCH_SIZE?");
    }));
  }
  SUBCASE("a typo in the prefix") {
    const auto config = load({{"ORDER_ROUTR_BATCH_SIZE", "5"}});
    const auto& warnings = config.warnings();
    CHECK(std::any_of(warnings.begin(), warnings.end(),
                      [](const std::string& w) { return contains(w, "did you mean ORDER_ROUTER_BATCH_SIZE?"); }));
  }
  SUBCASE("another program's variable is left alone") {
    const auto config = load({{"HOME", "/root"}, {"PATH", "/usr/bin"}});
    CHECK(config.warnings().empty());
  }
}

TEST_CASE("kernel settings: a secret is named, never printed") {
  SUBCASE("--print-config shows *** and the source") {
    const auto text = load({}).describe();
    CHECK(contains(text, "ORDER_ROUTER_API_KEY=***  # env"));
    CHECK(contains(text, "ORDER_ROUTER_BATCH_SIZE=100  # default"));
    CHECK(contains(text, "KAFKA_OUTPUT_TOPIC_INTERNATIONAL=orders.intl  # code"));
    CHECK_FALSE(contains(text, "s3cr3t-key-value"));
  }
  SUBCASE("a secret pasted into another variable is hidden in its problem") {
    const auto problem = only_problem({{"ORDER_ROUTER_BATCH_SIZE", "s3cr3t-key-value"}});
    CHECK_FALSE(contains(problem, "s3cr3t-key-value"));
  }
  SUBCASE("redact() masks the value wherever it appears") {
    const auto config = load({});
    CHECK(config.redact("calling https://api?key=s3cr3t-key-value now") == "calling https://api?key=*** now");
  }
  SUBCASE("redact_secret_values() masks the kernel's and the runtime's secret values") {
    const auto config =
        load({{env_var::KERNEL_ADMIN_TOKEN, "adm-token-1"}, {"KAFKA_PROPERTY_SSL_KEYSTORE_PASSWORD", "key-pass-2"}});
    CHECK(config.redact_secret_values("key s3cr3t-key-value, token adm-token-1, pass key-pass-2") ==
          "key ***, token ***, pass ***");
    const auto redactor = config.secret_value_redactor();
    REQUIRE(redactor);
    CHECK(redactor("token adm-token-1") == "token ***");
    CHECK_FALSE(Config::load(KernelDefaults{"plain", {"in"}, std::nullopt},
                             {{env_var::KAFKA_BOOTSTRAP_SERVERS, "b:9092"}}, RunMode::production,
                             "/nonexistent-dir/.env")
                    .secret_value_redactor());
  }
  SUBCASE("a secret enum value in a problem is hidden too") {
    auto kernel = router();
    kernel.settings.push_back({.name = "TOKEN_KIND",
                               .type = SettingType::enumeration,
                               .default_value = "a",
                               .secret = true,
                               .choices = {"a", "b"}});
    const auto problems = problems_of({{"ORDER_ROUTER_TOKEN_KIND", "hush-hush-value"}}, kernel);
    REQUIRE(problems.size() == 1);
    CHECK(problems.front() == "config error: ORDER_ROUTER_TOKEN_KIND: expected one of a, b (value hidden)");
  }
}

TEST_CASE("kernel settings: declarations are checked") {
  SUBCASE("a kernel name starting kafka- or kernel- is refused") {
    auto kernel = router();
    kernel.name = "kafka-router";
    const auto problems = declaration_problems(kernel);
    REQUIRE(problems.size() == 1);
    CHECK(contains(problems.front(), "starts with kafka- or kernel-"));
    kernel.name = "kernel-router";
    CHECK(declaration_problems(kernel).size() == 1);
  }
  SUBCASE("a name that declares no settings reads nothing under it: the runtime's tools (kernel-admin)") {
    KernelDefaults tool{"kernel-admin", {}, std::nullopt};
    CHECK(declaration_problems(tool).empty());
  }
  SUBCASE("bad names, repeats, defaults and enums") {
    KernelDefaults kernel{"router", {"in"}, std::nullopt};
    kernel.settings = {{.name = "batch", .type = SettingType::integer, .default_value = "1"},
                       {.name = "A", .type = SettingType::integer, .default_value = "x"},
                       {.name = "A", .type = SettingType::integer, .default_value = "1"},
                       {.name = "B", .type = SettingType::enumeration, .default_value = "a"},
                       {.name = "C", .type = SettingType::duration, .default_value = ""}};
    kernel.outputs = {{"Bad Name", "t"}, {"x-y", "t1"}, {"x_y", "t2"}};
    const auto problems = declaration_problems(kernel);
    CHECK_MESSAGE(problems.size() == 7, std::string(ConfigError(problems).what()));
  }
  SUBCASE("they make a configuration error") {
    auto kernel = router();
    kernel.name = "kernel-router";
    CHECK_THROWS_AS(Config::load(kernel, {{env_var::KAFKA_BOOTSTRAP_SERVERS, "b:9092"}, {"KERNEL_ROUTER_API_KEY", "k"}},
                                 RunMode::production, no_dotenv),
                    ConfigError);
  }
}

TEST_CASE("named outputs: compiled-in topic, KAFKA_OUTPUT_TOPIC_<NAME>, prefix and checks") {
  SUBCASE("defaults") {
    const auto config = load({});
    CHECK(config.settings().kernel_values.output_topic("international") == "orders.intl");
    CHECK(config.settings().kernel_values.output_topic("audit-log") == "orders.audit");
    CHECK(config.settings().output_topic == "orders.routed");  // KAFKA_OUTPUT_TOPIC stays the default output's
  }
  SUBCASE("overridden") {
    const auto config = load({{"KAFKA_OUTPUT_TOPIC_INTERNATIONAL", "intl.v2"}, {"KAFKA_OUTPUT_TOPIC_AUDIT_LOG", "a"}});
    CHECK(config.settings().kernel_values.output_topic("international") == "intl.v2");
    CHECK(config.settings().kernel_values.output_topic("audit-log") == "a");
    CHECK(config.source_of("KAFKA_OUTPUT_TOPIC_INTERNATIONAL") == "env");
    CHECK(config.warnings().empty());
  }
  SUBCASE("an invalid topic name") {
    CHECK(contains(only_problem({{"KAFKA_OUTPUT_TOPIC_INTERNATIONAL", "no spaces"}}),
                   "KAFKA_OUTPUT_TOPIC_INTERNATIONAL=\"no spaces\""));
  }
  SUBCASE("an input topic") {
    CHECK(contains(only_problem({{"KAFKA_OUTPUT_TOPIC_INTERNATIONAL", "orders"}}), "is also an input topic"));
  }
  SUBCASE("a misspelt output variable gets a suggestion") {
    const auto config = load({{"KAFKA_OUTPUT_TOPIC_INTERNATIONL", "x"}});
    CHECK(std::any_of(config.warnings().begin(), config.warnings().end(), [](const std::string& w) {
      return contains(w, "did you mean KAFKA_OUTPUT_TOPIC_INTERNATIONAL?");
    }));
  }
  SUBCASE("an unknown name is refused with the declared ones") {
    const auto config = load({});
    CHECK_THROWS_WITH_AS(config.settings().kernel_values.output_topic("domestic"),
                         "no output named \"domestic\" is declared in the kernel's spec (declared: audit-log, "
                         "international); add it to KernelSpec::outputs",
                         std::logic_error);
  }
}

TEST_CASE("kernel settings: load_kernel_values reads only the kernel's own") {
  const auto values =
      load_kernel_values(router(), {{"ORDER_ROUTER_API_KEY", "k-1234"}, {"ORDER_ROUTER_BATCH_SIZE", "9"}}, no_dotenv);
  CHECK(values.get<int>("BATCH_SIZE") == 9);
  CHECK(values.output_topic("international") == "orders.intl");
  CHECK_THROWS_AS(load_kernel_values(router(), {}, no_dotenv), ConfigError);
}

TEST_CASE("kernel settings: the configuration reference lists them") {
  const auto kernel = router();
  SUBCASE("json") {
    const auto rows = nlohmann::json::parse(configuration_reference(kernel, ReferenceFormat::json));
    auto find = [&](const std::string& name) {
      for (const auto& row : rows) {
        if (row["name"] == name) return row;
      }
      FAIL("no row " << name);
      return nlohmann::json();
    };
    CHECK(find(env_var::KAFKA_TOPIC)["default"] == "orders");
    CHECK(find(env_var::KAFKA_TOPIC)["declared_by"] == "runtime");
    CHECK(find("ORDER_ROUTER_BATCH_SIZE")["type"] == "int");
    CHECK(find("ORDER_ROUTER_BATCH_SIZE")["default"] == "100");
    CHECK(find("ORDER_ROUTER_BATCH_SIZE")["declared_by"] == "kernel");
    CHECK(find("ORDER_ROUTER_API_KEY")["secret"] == true);
    CHECK(find("ORDER_ROUTER_API_KEY")["required"] == true);
    CHECK(find("ORDER_ROUTER_MODE")["accepted"] == nlohmann::json{"fast", "safe"});
    CHECK(find("KAFKA_OUTPUT_TOPIC_AUDIT_LOG")["default"] == "orders.audit");
  }
  SUBCASE("env") {
    const auto text = configuration_reference(kernel, ReferenceFormat::env);
    CHECK(contains(text, "# rows per insert\n# ORDER_ROUTER_BATCH_SIZE=100\n"));
    CHECK(contains(text, "ORDER_ROUTER_API_KEY=\n"));
    CHECK(contains(text, "# KAFKA_OUTPUT_TOPIC_INTERNATIONAL=orders.intl\n"));
  }
  SUBCASE("markdown") {
    const auto text = configuration_reference(kernel, ReferenceFormat::markdown);
    CHECK(contains(text, "| `ORDER_ROUTER_API_KEY` *secret* | string | required | key of the pricing API |"));
    CHECK(contains(text, "| `ORDER_ROUTER_MODE` | enum: fast, safe | `fast` | how |"));
  }
}

TEST_CASE("Context: setting<T>() and produce_to()") {
  auto values = std::make_shared<KernelValues>();
  values->set_setting("BATCH_SIZE", 100LL);
  values->set_setting("MODE", std::string("fast"));
  values->set_output("international", "orders.intl");
  testing::TestContext context;
  context.set_kernel_values(values);

  CHECK(context.setting<int>("BATCH_SIZE") == 100);
  CHECK(context.setting<std::string>("MODE") == "fast");
  CHECK_THROWS_WITH_AS(context.setting<std::string>("BATCH_SIZE"),
                       "setting BATCH_SIZE is an int, not read as std::string", std::logic_error);
  CHECK_THROWS_WITH_AS(context.setting<int>("BATCH_SIZ"),
                       "no setting BATCH_SIZ is declared in the kernel's spec; did you mean BATCH_SIZE?",
                       std::logic_error);
  CHECK(context.setting<std::int8_t>("BATCH_SIZE") == 100);
  values->set_setting("BATCH_SIZE", 1000LL);
  CHECK_THROWS_AS(context.setting<std::int8_t>("BATCH_SIZE"), std::logic_error);  // would not fit

  context.produce_to("international", Outgoing{}.json({{"id", 1}}));
  REQUIRE(context.produced().size() == 1);
  CHECK(context.produced().front().topic() == "orders.intl");
  CHECK_THROWS_WITH_AS(context.produce_to("domestic", Outgoing{}.json({{"id", 2}})),
                       "produce_to(): no output named \"domestic\" is declared in the kernel's spec (declared: "
                       "international); add it to KernelSpec::outputs",
                       PermanentError);
}

}  // namespace kernel_settings_test
