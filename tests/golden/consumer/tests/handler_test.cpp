// Unit tests of the handler: no Kafka, no broker, milliseconds to run.
//   ctest --test-dir build -L unit     or     ./build/audit_log_handler_test
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
TestContext kernel_context() { return TestContext(audit_log::kernel_spec(), audit_log::test_settings()); }

}  // namespace

TEST_CASE("an event is handled, counted and produces nothing") {
  auto context = kernel_context();
  const auto before = audit_log::handled_count();

  call_ok(audit_log::handle,
          make_message({{"id", "evt-1"}, {"account", "acme"}, {"amount", 42.5}}, "evt-1"),
          context);

  CHECK(audit_log::handled_count() == before + 1);
  CHECK(context.produced().empty());
}

TEST_CASE("a message that is not JSON is dead-lettered") {
  auto context = kernel_context();

  const auto outcome = call(audit_log::handle, make_raw_message("not json", "evt-2"), context);

  CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  CHECK(outcome.reason == kernel::FailureReason::deserialization_error);
}

TEST_CASE("an event without an account is dead-lettered as invalid") {
  auto context = kernel_context();
  const auto before = audit_log::handled_count();

  const auto outcome = call(audit_log::handle, make_message({{"id", "evt-3"}, {"amount", 1}}), context);

  CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  CHECK(outcome.reason == kernel::FailureReason::validation_error);
  CHECK(audit_log::handled_count() == before);
}
