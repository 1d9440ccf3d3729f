// A test file of a kernel generated before kernel::doctest_main: it compiles doctest's main()
// itself and still links with kernel::doctest_main (a static library: nothing of it is used).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

TEST_CASE("a test file with its own main() runs") { CHECK(true); }
