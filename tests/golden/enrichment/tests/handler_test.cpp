// Unit tests of the handler: no Kafka, no broker, milliseconds to run.
//   ctest --test-dir build -L unit     or     ./build/payment_enricher_handler_test
#include <doctest/doctest.h>  // its main() comes compiled: kernel::doctest_main

#include <kernel/testing.hpp>
#include <kernel/testing_doctest.hpp>
#include <nlohmann/json.hpp>

#include "handler.hpp"
#include "kernel_spec.hpp"
#include "test_settings.hpp"

using kernel::testing::call;
using kernel::testing::call_ok;  // fails the test with the outcome's class, reason and message
using kernel::testing::make_message;
using kernel::testing::make_raw_message;
using kernel::testing::require_ok;
using kernel::testing::TestContext;

namespace {

/// The context the handler gets in the kernel: the settings and named outputs of
/// kernel_spec() (src/kernel_spec.cpp), at their defaults; test_settings() gives the required
/// ones a value.
TestContext kernel_context() { return TestContext(payment_enricher::kernel_spec(), payment_enricher::test_settings()); }

}  // namespace

TEST_CASE("a known account's details are added and the rest is forwarded") {
  auto context = kernel_context();

  call_ok(
      payment_enricher::handle,
      make_message({{"id", "evt-1"}, {"account", "acme"}, {"amount", 42.5}, {"note", "kept"}}, "evt-1"),
      context);

  REQUIRE(context.produced().size() == 1);
  const auto& output = context.produced().front();
  CHECK(output.topic().empty());  // the kernel's output topic
  CHECK(output.key() == "evt-1");
  const auto document = nlohmann::json::parse(output.value());
  CHECK(document["note"] == "kept");
  CHECK(document["amount"] == 42.5);
  CHECK(document["account_details"]["name"] == "Acme Corporation");
}

TEST_CASE("an unknown account is forwarded without details") {
  auto context = kernel_context();

  call_ok(payment_enricher::handle,
          make_message({{"id", "evt-2"}, {"account", "nobody"}, {"amount", 1}}), context);

  REQUIRE(context.produced().size() == 1);
  CHECK(nlohmann::json::parse(context.produced().front().value())["account_details"].is_null());
}

TEST_CASE("a message that is not JSON is dead-lettered") {
  auto context = kernel_context();

  const auto outcome = call(payment_enricher::handle, make_raw_message("not json", "evt-3"), context);

  CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  CHECK(outcome.reason == kernel::FailureReason::deserialization_error);
  CHECK(context.produced().empty());
}

TEST_CASE("a message without an account is dead-lettered as invalid") {
  auto context = kernel_context();

  SUBCASE("a missing account") {
    const auto outcome = call(payment_enricher::handle, make_message({{"id", "evt-4"}}), context);
    CHECK(outcome.reason == kernel::FailureReason::validation_error);
  }
  SUBCASE("JSON that is not an object") {
    const auto outcome = call(payment_enricher::handle, make_message(nlohmann::json::array({1, 2})), context);
    CHECK(outcome.reason == kernel::FailureReason::validation_error);
  }
  CHECK(context.produced().empty());
}
