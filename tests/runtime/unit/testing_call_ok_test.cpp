// kernel::testing::describe() and call_ok(): a handler test that expected success says why it
// did not get it (the outcome's class, reason, type and message), not just `false`.
#include <doctest/doctest.h>

#include <stdexcept>

#include "kernel/errors.hpp"
#include "kernel/testing.hpp"
#include "kernel/testing_doctest.hpp"

namespace {

void reads_an_undeclared_setting(const kernel::Message&, kernel::Context& context) {
  (void)context.setting<double>("HIGH_PRIORITY_AMOUNT");
}

void refuses(const kernel::Message&, kernel::Context&) {
  throw kernel::PermanentError("order without id", kernel::FailureReason::validation_error);
}

void accepts(const kernel::Message&, kernel::Context&) {}

}  // namespace

TEST_CASE("describe() gives an outcome's class, reason, error type and message in one line") {
  kernel::testing::TestContext context;
  const auto outcome = kernel::testing::call(refuses, kernel::testing::make_message({{"id", 1}}), context);
  CHECK(kernel::testing::describe(outcome) == "permanent (validation_error) kernel::PermanentError: order without id");
}

TEST_CASE("describe() of a handler reading an undeclared setting names the setting") {
  kernel::testing::TestContext context;
  const auto outcome =
      kernel::testing::call(reads_an_undeclared_setting, kernel::testing::make_message({{"id", 1}}), context);
  const auto text = kernel::testing::describe(outcome);
  CHECK(text.starts_with("permanent (processing_error) "));
  CHECK(text.find("HIGH_PRIORITY_AMOUNT") != std::string::npos);
}

TEST_CASE("describe() of a success is `success`") {
  CHECK(kernel::testing::describe(kernel::Outcome::success()) == "success");
}

TEST_CASE("call_ok() returns the outcome of a handler that succeeds") {
  kernel::testing::TestContext context;
  CHECK(kernel::testing::call_ok(accepts, kernel::testing::make_message({{"id", 1}}), context).ok());
}

// The failure's text is describe()'s (above); here, that it fails the test at all.
TEST_CASE("call_ok() fails the test when the outcome is not ok" * doctest::should_fail()) {
  kernel::testing::TestContext context;
  kernel::testing::call_ok(refuses, kernel::testing::make_message({{"id", 1}}), context);
}
