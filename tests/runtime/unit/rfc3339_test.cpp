// The one RFC 3339 parser (kernel-admin's --since, --until and --to, dlq-failed-at headers),
// against the one formatter.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "core/rfc3339.hpp"

namespace rfc3339_test {

using kernel::detail::format_rfc3339;
using kernel::detail::parse_rfc3339;
using kernel::detail::Rfc3339Error;
using kernel::detail::try_parse_rfc3339;

namespace {
constexpr std::int64_t at_03_09_38 = 1795403378000;  // 2026-11-23T03:09:38Z
}

TEST_CASE("rfc3339: UTC, fractions and offsets read as epoch milliseconds") {
  CHECK(parse_rfc3339("2026-11-23T03:09:38Z") == at_03_09_38);
  CHECK(parse_rfc3339("2026-11-23T03:09:38.123Z") == at_03_09_38 + 123);
  CHECK(parse_rfc3339("2026-11-23T03:09:38.1Z") == at_03_09_38 + 100);
  CHECK(parse_rfc3339("2026-11-23T03:09:38.123999Z") == at_03_09_38 + 123);  // beyond ms: dropped
  CHECK(parse_rfc3339("2026-11-23T05:09:38+02:00") == at_03_09_38);
  CHECK(parse_rfc3339("2026-11-22T22:39:38.5-04:30") == at_03_09_38 + 500);
  CHECK(parse_rfc3339("2026-11-23t03:09:38z") == at_03_09_38);
  CHECK(parse_rfc3339("2026-11-23 03:09:38Z") == at_03_09_38);
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339("1969-12-31T23:59:59.999Z") == -1);
  CHECK(parse_rfc3339("2024-02-29T00:00:00Z") == 1709164800000);
  CHECK(parse_rfc3339("2016-12-31T23:59:60Z") == parse_rfc3339("2017-01-01T00:00:00Z"));
}

TEST_CASE("rfc3339: what the formatter writes reads back to the same instant") {
  for (const std::int64_t ms :
       {std::int64_t{0}, at_03_09_38 + 123, std::int64_t{-86'400'001}, std::int64_t{253402300799999}}) {
    CAPTURE(ms);
    CHECK(parse_rfc3339(format_rfc3339(ms)) == ms);
  }
}

TEST_CASE("rfc3339: invalid input names the text and what is wrong") {
  const auto error_of = [](const std::string& text) {
    try {
      parse_rfc3339(text);
    } catch (const Rfc3339Error& error) {
      return std::string(error.what());
    }
    return std::string("(accepted)");
  };
  CHECK(error_of("2026-11-23T03:09:38") ==
        "\"2026-11-23T03:09:38\" is not an RFC 3339 time (2026-11-23T03:09:38Z): a zone is required (Z for UTC, or "
        "an offset like +02:00)");
  CHECK(error_of("2026-11-23").find("a time is required after the date") != std::string::npos);
  CHECK(error_of("2026-13-01T00:00:00Z").find("month 13 is not 01 to 12") != std::string::npos);
  CHECK(error_of("2025-02-29T00:00:00Z").find("day 29 is not in month 2 of 2025") != std::string::npos);
  CHECK(error_of("2026-11-23T24:00:00Z").find("time of day") != std::string::npos);
  CHECK(error_of("2026-11-23T03:09:38.Z").find("digits after the '.'") != std::string::npos);
  CHECK(error_of("2026-11-23T03:09:38+0200").find("':' in the offset") != std::string::npos);
  CHECK(error_of("2026-11-23T03:09:38+24:00").find("offset is not between") != std::string::npos);
  CHECK(error_of("2026-11-23T03:09:38Z trailing").find("unexpected \" trailing\" after the zone") != std::string::npos);
  CHECK(error_of("26-11-23T03:09:38Z").find("a four-digit year") != std::string::npos);
  CHECK(error_of("").find("a four-digit year") != std::string::npos);
  CHECK(error_of("2026-11-23X03:09:38Z").find("expected 'T'") != std::string::npos);
  CHECK_FALSE(try_parse_rfc3339("30m"));
  CHECK(try_parse_rfc3339("2026-11-23T03:09:38Z") == at_03_09_38);
}

}  // namespace rfc3339_test
