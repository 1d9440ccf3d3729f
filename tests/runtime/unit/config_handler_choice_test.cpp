// The kernel's choice of handler (KernelSpec::handler or ::batch_handler, and its middleware) is
// checked by the configuration with the settings: every problem at once, one line each.
#include <doctest/doctest.h>

#include <algorithm>

#include "kernel/config.hpp"

namespace config_handler_choice_test {

using namespace kernel;

namespace {

KernelDefaults kernel_with(HandlerChoice choice) {
  KernelDefaults defaults{"choice-kernel", {"in"}, std::nullopt};
  defaults.batch_handler = choice.batch_handler;
  defaults.handler_choice = choice;
  return defaults;
}

std::vector<std::string> problems_of(const KernelDefaults& defaults, Environment env = {}) {
  env.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092");
  try {
    Config::load(defaults, env, RunMode::production, "/nonexistent-dir/.env");
  } catch (const ConfigError& error) {
    return error.problems();
  }
  return {};
}

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

}  // namespace

TEST_CASE("config handler choice: both handlers is refused together with the settings' problems") {
  const auto problems =
      problems_of(kernel_with({.handler = true, .batch_handler = true}), {{env_var::KERNEL_RETRY_JITTER, "2"}});
  CHECK(problems.size() == 2);
  CHECK(has_line(problems,
                 "config error: kernel choice-kernel sets both KernelSpec::handler and KernelSpec::batch_handler; "
                 "set exactly one of them"));
  CHECK(std::any_of(problems.begin(), problems.end(),
                    [](const std::string& line) { return line.starts_with("config error: KERNEL_RETRY_JITTER="); }));
}

TEST_CASE("config handler choice: a kernel with neither handler is refused") {
  CHECK(problems_of(kernel_with({})) ==
        std::vector<std::string>{"config error: kernel choice-kernel sets neither KernelSpec::handler nor "
                                 "KernelSpec::batch_handler; set exactly one of them"});
}

TEST_CASE("config handler choice: consumer middleware around a batch handler is refused") {
  const auto problems = problems_of(kernel_with({.batch_handler = true, .consumer_middleware = true}));
  REQUIRE(problems.size() == 1);
  CHECK(problems.front().find("has consumer middleware, which does not wrap batch_handler calls") != std::string::npos);
}

TEST_CASE("config handler choice: one handler passes, and a configuration without a kernel's choice is not checked") {
  CHECK(problems_of(kernel_with({.handler = true, .consumer_middleware = true})).empty());
  CHECK(problems_of(kernel_with({.batch_handler = true})).empty());
  CHECK(problems_of(KernelDefaults{"tool", {"in"}, std::nullopt}).empty());
}

}  // namespace config_handler_choice_test
