// Unit tests of the handler: no Kafka, no broker, milliseconds to run.
//   ctest --test-dir build -L unit     or     ./build/order_auditor_handler_test
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
TestContext kernel_context() { return TestContext(order_auditor::kernel_spec(), order_auditor::test_settings()); }

}  // namespace

// Decoding a framed value asks the schema registry for the writer's schema (the id in its
// header), so these tests keep to what is refused before that; README.md says how to run the
// kernel with a registry and send it real Avro values.
TEST_CASE("a value not written through a schema registry is dead-lettered") {
  auto context = kernel_context();

  const auto outcome = call(order_auditor::handle, make_raw_message("{\"id\": \"evt-1\"}", "evt-1"), context);

  CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  CHECK(outcome.reason == kernel::FailureReason::wrong_magic_byte);
  CHECK(context.produced().empty());
}

TEST_CASE("a value cut short inside its header is dead-lettered") {
  auto context = kernel_context();

  // The magic byte and two of the schema id's four bytes.
  const auto outcome = call(order_auditor::handle, make_raw_message(std::string(3, '\0'), "evt-2"), context);

  CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  CHECK(outcome.reason == kernel::FailureReason::truncated_payload);
  CHECK(context.produced().empty());
}
