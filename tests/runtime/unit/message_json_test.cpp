#include <doctest/doctest.h>

#include <string>

#include "kernel/errors.hpp"
#include "kernel/message.hpp"
#include "kernel/testing.hpp"

namespace {
std::string nested_arrays(std::size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }
}  // namespace

TEST_CASE("json() accepts nesting up to max_json_depth; deeper is a deserialization_error") {
  static_assert(kernel::max_json_depth == 512);
  SUBCASE("at the limit") {
    auto message = kernel::testing::make_raw_message(R"({"a":)" + nested_arrays(kernel::max_json_depth - 1) + "}");
    const auto document = message.json();
    CHECK(document.dump().size() == message.value().size());
  }
  SUBCASE("one level deeper, objects or arrays") {
    for (const auto& text : {nested_arrays(kernel::max_json_depth + 1),
                             R"({"a":)" + nested_arrays(kernel::max_json_depth) + "}",
                             R"({"a":[{"b":)" + nested_arrays(kernel::max_json_depth - 1) + "}]}"}) {
      auto message = kernel::testing::make_raw_message(text);
      try {
        (void)message.json();
        FAIL("expected a PermanentError");
      } catch (const kernel::PermanentError& error) {
        CHECK(error.reason() == kernel::FailureReason::deserialization_error);
        CHECK(std::string(error.what()) == "JSON nested deeper than 512 levels (kernel::max_json_depth)");
      }
    }
  }
  SUBCASE("brackets inside strings do not count") {
    auto message = kernel::testing::make_raw_message(R"({"a":")" + nested_arrays(2000) + R"(\"[["})");
    CHECK(message.json()["a"].get<std::string>().size() == 4003);
  }
}
