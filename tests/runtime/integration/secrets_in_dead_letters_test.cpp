// A secret's value quoted by a handler's exception (a URL with its API key) is *** in the
// dead letter's headers: the kernel's own secret settings and the runtime's secrets alike.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "kernel/kernel.hpp"
#include "kernel/testing.hpp"

namespace secrets_in_dead_letters_test {

using namespace std::chrono_literals;

TEST_CASE("secret values in an exception's text never reach a dead letter's headers") {
  kernel::KernelSpec spec;
  spec.name = "pricing";
  spec.input_topics = {"pricing.in"};
  spec.settings = {{.name = "API_KEY", .type = kernel::SettingType::string, .description = "key", .secret = true}};
  spec.handler = [](const kernel::Message&, kernel::Context& context) {
    throw kernel::PermanentError("GET https://pricing/?key=" + context.setting<std::string>("API_KEY") +
                                 " failed; token adm-7d1e99b04c2f refused");
  };
  kernel::testing::KernelFixture fixture(
      spec, {{"PRICING_API_KEY", "pk-live-5f8e2d91c0ab"}, {kernel::env_var::KERNEL_ADMIN_TOKEN, "adm-7d1e99b04c2f"}});
  fixture.send({{"n", 1}});
  const auto letters = fixture.dead_letters(1, 20s);
  REQUIRE(letters.size() == 1);
  const std::map<std::string, std::string> headers(letters[0].headers.begin(), letters[0].headers.end());
  CHECK(headers.at("dlq-error-message") == "GET https://pricing/?key=*** failed; token *** refused");
}

}  // namespace secrets_in_dead_letters_test
