// A test program of the consumer, as a kernel's tests are: doctest's main() comes compiled
// with the runtime (kernel::doctest_main), and the runtime's headers precompiled.
#include <doctest/doctest.h>

#include <kernel/kernel.hpp>
#include <kernel/testing.hpp>

TEST_CASE("a handler called through kernel::testing completes") {
  kernel::testing::TestContext context;
  const auto handler = [](const kernel::Message&, kernel::Context&) {};
  CHECK(kernel::testing::call(handler, kernel::testing::make_message({{"a", 1}}), context).ok());
}
