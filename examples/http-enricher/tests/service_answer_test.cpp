// What each answer of the customer service means for the message: the customer, a retry (after
// the delay the service asks for), or a dead letter.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

#include <kernel/kernel.hpp>

#include "service_answer.hpp"

namespace service_answer_test {

using namespace std::chrono_literals;
using http_enricher::customer_from_answer;
using http_enricher::parse_retry_after;

// 2026-12-01T10:00:00Z
const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1796119200));

/// The delay a transient answer asks for, or nullopt when it asks none; fails the test when the
/// answer is not a TransientError.
std::optional<std::chrono::milliseconds> transient_delay(int status, const std::string& retry_after = "") {
  try {
    (void)customer_from_answer(status, "", retry_after, now);
  } catch (const kernel::TransientError& error) {
    return error.requested_delay();
  }
  FAIL("status " << status << " is not transient");
  return std::nullopt;
}

TEST_CASE("200 with a JSON object is the customer") {
  CHECK(customer_from_answer(200, R"({"id": "c-1", "tier": "gold"})", "", now) ==
        nlohmann::json{{"id", "c-1"}, {"tier", "gold"}});
}

TEST_CASE("a 200 whose body is not a JSON object is the service's fault: transient") {
  CHECK_THROWS_AS((void)customer_from_answer(200, "<html>", "", now), kernel::TransientError);
  CHECK_THROWS_AS((void)customer_from_answer(200, "[1, 2]", "", now), kernel::TransientError);
}

TEST_CASE("429 and 5xx are transient, with the delay Retry-After asks for") {
  CHECK(transient_delay(429, "7") == 7s);
  CHECK(transient_delay(503, "2") == 2s);
  CHECK(transient_delay(429) == std::nullopt);
  CHECK(transient_delay(500) == std::nullopt);
  CHECK(transient_delay(502, "junk") == std::nullopt);
  CHECK(transient_delay(408) == std::nullopt);  // the service gave up waiting for the request
}

TEST_CASE("other 4xx are permanent: the request will never succeed") {
  for (const int status : {400, 401, 403, 404, 422}) {
    CAPTURE(status);
    CHECK_THROWS_AS((void)customer_from_answer(status, "", "", now), kernel::PermanentError);
  }
  CHECK_THROWS_WITH((void)customer_from_answer(404, "", "", now), "the customer service answered 404");
}

TEST_CASE("Retry-After is delay-seconds or an HTTP date") {
  CHECK(parse_retry_after("0", now) == 0ms);
  CHECK(parse_retry_after("120", now) == 120s);
  CHECK(parse_retry_after("Tue, 01 Dec 2026 10:00:30 GMT", now) == 30s);
  CHECK(parse_retry_after("Tue, 01 Dec 2026 09:59:00 GMT", now) == 0ms);  // already past
}

TEST_CASE("a Retry-After that is neither is ignored, and a huge one is bounded") {
  CHECK(parse_retry_after("", now) == std::nullopt);
  CHECK(parse_retry_after("-5", now) == std::nullopt);
  CHECK(parse_retry_after("1.5", now) == std::nullopt);
  CHECK(parse_retry_after("soon", now) == std::nullopt);
  CHECK(parse_retry_after("99999999999999999999", now) == http_enricher::max_retry_after);
  CHECK(parse_retry_after("Tue, 01 Dec 2099 10:00:30 GMT", now) == http_enricher::max_retry_after);
}

}  // namespace service_answer_test
