#include <doctest/doctest.h>

#include <string>

#include "kernel/errors.hpp"
#include "kernel/message.hpp"
#include "kernel/testing.hpp"

namespace message_json_test {

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
    for (const auto& text :
         {nested_arrays(kernel::max_json_depth + 1), R"({"a":)" + nested_arrays(kernel::max_json_depth) + "}",
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

TEST_CASE("a number a double cannot hold is a deserialization_error, not a processing_error") {
  for (const char* text : {"1e999", R"({"amount": -1e999})"}) {
    CAPTURE(text);
    auto message = kernel::testing::make_raw_message(text);
    try {
      (void)message.json();
      FAIL("expected a PermanentError");
    } catch (const kernel::PermanentError& error) {
      CHECK(error.reason() == kernel::FailureReason::deserialization_error);
      CHECK(std::string(error.what()).find("number overflow") != std::string::npos);
    }
  }
}

TEST_CASE("headers tell a null value from an empty one") {
  const kernel::Headers headers({{"empty", ""}, {"absent", ""}, {"text", "v"}}, {1});
  CHECK_FALSE(headers.is_null(0));
  CHECK(headers.is_null(1));
  CHECK_FALSE(headers.is_null(2));
  CHECK(headers.get("absent") == std::string_view());
}

}  // namespace message_json_test
