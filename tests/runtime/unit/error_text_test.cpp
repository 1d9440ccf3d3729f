// masked_error_text(): what a dead letter's or a retry record's header carries of an
// exception's text. Secret values are masked before the text is cut to its bound, and the cut
// never splits a UTF-8 sequence.
#include <doctest/doctest.h>

#include <string>

#include "kernel/config.hpp"
#include "loop/error_text.hpp"

namespace error_text_test {

using kernel::detail::masked_error_text;

namespace {

kernel::Config with_secret(const std::string& token) {
  return kernel::Config::load(
      kernel::KernelDefaults{"plain", {"in"}, std::nullopt},
      {{kernel::env_var::KAFKA_BOOTSTRAP_SERVERS, "b:9092"}, {kernel::env_var::KERNEL_ADMIN_TOKEN, token}},
      kernel::RunMode::production, "/nonexistent-dir/.env");
}

}  // namespace

TEST_CASE("masked_error_text: a secret across the bound is masked whole, not cut into a prefix left in clear") {
  const auto config = with_secret("sup3rs3cretvalue");
  // Cut first, 20 bytes would be "api key sup3rs3cretv": the bound falls inside the secret.
  const std::string text = "api key sup3rs3cretvalue rejected";
  CHECK(masked_error_text(config, text, 20) == "api key *** rejected");
  CHECK(masked_error_text(config, text, 12) == "api key *** ");
}

TEST_CASE("masked_error_text: text within its bound is only masked") {
  const auto config = with_secret("sup3rs3cretvalue");
  CHECK(masked_error_text(config, "token sup3rs3cretvalue, again sup3rs3cretvalue", 4096) == "token ***, again ***");
  CHECK(masked_error_text(config, "nothing secret", 4096) == "nothing secret");
}

TEST_CASE("masked_error_text: the cut never splits a UTF-8 sequence") {
  const auto config = with_secret("sup3rs3cretvalue");
  const std::string text = "ab\u00e9cd";  // é is two bytes in UTF-8
  CHECK(masked_error_text(config, text, 3) == "ab");
  CHECK(masked_error_text(config, text, 4) == "ab\xC3\xA9");
}

}  // namespace error_text_test
