// Unit tests of the handler: no Kafka, no broker, milliseconds to run.
//   ctest --test-dir build -L unit     or     ./build/audit_log_handler_test
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <kernel/testing.hpp>
#include <nlohmann/json.hpp>

#include "handler.hpp"

using kernel::testing::call;
using kernel::testing::make_message;
using kernel::testing::make_raw_message;
using kernel::testing::TestContext;

TEST_CASE("an event is handled, counted and produces nothing") {
  TestContext context;
  const auto before = audit_log::handled_count();

  const auto outcome = call(audit_log::handle,
                            make_message({{"id", "evt-1"}, {"account", "acme"}, {"amount", 42.5}}, "evt-1"),
                            context);

  CHECK(outcome.ok());
  CHECK(audit_log::handled_count() == before + 1);
  CHECK(context.produced().empty());
}

TEST_CASE("a message that is not JSON is dead-lettered") {
  TestContext context;

  const auto outcome = call(audit_log::handle, make_raw_message("not json", "evt-2"), context);

  CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  CHECK(outcome.reason == kernel::FailureReason::deserialization_error);
}

TEST_CASE("an event without an account is dead-lettered as invalid") {
  TestContext context;
  const auto before = audit_log::handled_count();

  const auto outcome = call(audit_log::handle, make_message({{"id", "evt-3"}, {"amount", 1}}), context);

  CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  CHECK(outcome.reason == kernel::FailureReason::validation_error);
  CHECK(audit_log::handled_count() == before);
}
