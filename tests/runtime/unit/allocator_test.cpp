// Which allocator serves malloc in a program linking kernel::runtime: the one the runtime was
// built for (KERNEL_ALLOCATOR), found from the running process.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "run/allocator.hpp"

namespace allocator_test {

TEST_CASE("allocator: a program linking the runtime allocates with the allocator it was built for") {
  const std::string_view built_for = KERNEL_TEST_ALLOCATOR;
  const auto description = kernel::detail::allocator_description();
  INFO("built for ", built_for, "; malloc is served by: ", description);
  if (built_for == "jemalloc") {
    // Linked, and first in the lookup order: its malloc is the process's, with its version.
    CHECK(kernel::detail::jemalloc_serves_malloc());
    CHECK(description.starts_with("jemalloc "));
    CHECK(description.size() > std::string_view("jemalloc ").size());
  } else {
    CHECK_FALSE(kernel::detail::jemalloc_serves_malloc());
    CHECK(description == "the C library's malloc");
  }
}

}  // namespace allocator_test
