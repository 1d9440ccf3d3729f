// Unit tests of the handler: no Kafka, no broker, milliseconds to run.
//   ctest --test-dir build -L unit     or     ./build/payment_mapper_handler_test
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
TestContext kernel_context() { return TestContext(payment_mapper::kernel_spec(), payment_mapper::test_settings()); }

}  // namespace

TEST_CASE("an event becomes one output document with the same key") {
  auto context = kernel_context();

  call_ok(payment_mapper::handle,
          make_message({{"id", "evt-1"}, {"account", "acme"}, {"amount", 42.5}}, "evt-1"),
          context);

  REQUIRE(context.produced().size() == 1);
  const auto& output = context.produced().front();
  CHECK(output.topic().empty());  // the kernel's output topic
  CHECK(output.key() == "evt-1");
  CHECK(nlohmann::json::parse(output.value()) ==
        nlohmann::json{{"id", "evt-1"}, {"account", "acme"}, {"amount_cents", 4250}});
}

TEST_CASE("a message without a key gives an output without a key") {
  auto context = kernel_context();

  call_ok(payment_mapper::handle,
          make_message({{"id", "evt-2"}, {"account", "acme"}, {"amount", 1}}), context);

  REQUIRE(context.produced().size() == 1);
  CHECK_FALSE(context.produced().front().key().has_value());
}

TEST_CASE("a message that is not JSON is dead-lettered") {
  auto context = kernel_context();

  const auto outcome = call(payment_mapper::handle, make_raw_message("not json", "evt-3"), context);

  CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  CHECK(outcome.reason == kernel::FailureReason::deserialization_error);
  CHECK(context.produced().empty());
}

TEST_CASE("invalid events are dead-lettered as validation errors") {
  auto context = kernel_context();

  SUBCASE("a missing field") {
    const auto outcome = call(payment_mapper::handle, make_message({{"id", "evt-4"}, {"amount", 1}}), context);
    CHECK(outcome.reason == kernel::FailureReason::validation_error);
    CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  }
  SUBCASE("a negative amount") {
    const auto outcome = call(payment_mapper::handle,
                              make_message({{"id", "evt-5"}, {"account", "acme"}, {"amount", -1}}), context);
    CHECK(outcome.reason == kernel::FailureReason::validation_error);
    CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  }
  CHECK(context.produced().empty());
}
