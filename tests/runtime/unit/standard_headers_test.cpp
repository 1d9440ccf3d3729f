#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <set>
#include <string>

#include <librdkafka/rdkafka.h>

#include "core/trace_context.hpp"
#include "kernel/testing.hpp"
#include "loop/standard_headers.hpp"

namespace standard_headers_test {

namespace {
std::multimap<std::string, std::string> read(kernel::detail::HeadersPtr owned) {
  auto* headers = owned.get();
  std::multimap<std::string, std::string> out;
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    out.emplace(name, std::string(static_cast<const char*>(value), size));
  }
  return out;
}
const std::regex uuid_v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
const std::regex rfc3339_ms("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$");
}  // namespace

TEST_CASE("every output carries the standard headers") {
  kernel::detail::HeaderStamper stamper("orders-enricher");
  auto input = kernel::testing::make_message({{"id", 1}});
  auto headers = read(stamper.stamp(kernel::Outgoing{}.json({{"id", 1}}), &input, 1));
  REQUIRE(headers.count("event-id") == 1);
  CHECK(std::regex_match(headers.find("event-id")->second, uuid_v4));
  CHECK(headers.find("correlation-id")->second == headers.find("event-id")->second);
  CHECK(headers.find("source")->second == "orders-enricher");
  CHECK(std::regex_match(headers.find("timestamp")->second, rfc3339_ms));
  CHECK(headers.find("content-type")->second == "application/json");
  // No value, no header: never an empty one.
  for (const char* absent : {"causation-id", "event-type", "conversation-id", "schema-version", "retry-count"}) {
    CAPTURE(absent);
    CHECK(headers.count(absent) == 0);
  }
}

TEST_CASE("correlation and conversation ids propagate from the input; causation is the input's event id") {
  kernel::detail::HeaderStamper stamper("k");
  auto input = kernel::testing::make_message(
      {{"id", 1}}, "key", {{"event-id", "in-event"}, {"correlation-id", "corr-1"}, {"conversation-id", "conv-1"}});
  SUBCASE("propagated") {
    auto headers =
        read(stamper.stamp(kernel::Outgoing{}.text("hi").event_type("greeting").schema_version("2"), &input, 3));
    CHECK(headers.find("correlation-id")->second == "corr-1");
    CHECK(headers.find("conversation-id")->second == "conv-1");
    CHECK(headers.find("causation-id")->second == "in-event");
    CHECK(headers.find("event-type")->second == "greeting");
    CHECK(headers.find("schema-version")->second == "2");
    CHECK(headers.find("retry-count")->second == "2");
    CHECK(headers.find("content-type")->second == "text/plain; charset=utf-8");
    CHECK(headers.find("event-id")->second != "in-event");
  }
  SUBCASE("overridden by the output") {
    auto headers = read(stamper.stamp(
        kernel::Outgoing{}.bytes("\x01").correlation_id("corr-2").conversation_id("conv-2").header("x-extra", "1"),
        &input, 1));
    CHECK(headers.find("correlation-id")->second == "corr-2");
    CHECK(headers.find("conversation-id")->second == "conv-2");
    CHECK(headers.find("content-type")->second == "application/octet-stream");
    CHECK(headers.find("x-extra")->second == "1");
  }
}

TEST_CASE("event ids are unique") {
  kernel::detail::UuidGenerator generator;
  std::set<std::string> seen;
  char id[36];
  for (int i = 0; i < 100000; ++i) {
    generator.next(id);
    seen.emplace(id, sizeof id);
  }
  CHECK(seen.size() == 100000);
  CHECK(std::regex_match(*seen.begin(), uuid_v4));
}

TEST_CASE("one RFC 3339 formatter: UTC with milliseconds, leap days and times before 1970 included") {
  struct Case {
    std::int64_t epoch_ms;
    const char* text;
  };
  for (const auto& c : {Case{1795403378123, "2026-11-23T03:09:38.123Z"},
                        Case{1709251199999, "2024-02-29T23:59:59.999Z"}, Case{0, "1970-01-01T00:00:00.000Z"},
                        Case{951868800001, "2000-03-01T00:00:00.001Z"}, Case{-500, "1969-12-31T23:59:59.500Z"}}) {
    CAPTURE(c.text);
    CHECK(kernel::detail::format_rfc3339(c.epoch_ms) == c.text);
    CHECK(kernel::jsonl::format_timestamp(c.epoch_ms) == c.text);  // the JSON Lines output uses the same one
  }
  const auto now = kernel::detail::format_rfc3339(kernel::detail::now_epoch_ms());
  CHECK(std::regex_match(now, rfc3339_ms));
}

TEST_CASE("an output continues the input's trace: its trace id and flags, this handling's span, its tracestate") {
  kernel::detail::HeaderStamper stamper("k");
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string parent = "00-" + trace_id + "-00f067aa0ba902b7-01";
  auto input = kernel::testing::make_message({{"id", 1}}, "key", {{"traceparent", parent}, {"tracestate", "rojo=1"}});
  const auto span = std::string(kernel::detail::handling_trace(input).trace.span_id());
  SUBCASE("stamped") {
    auto headers = read(stamper.stamp(kernel::Outgoing{}.text("x"), &input, 1));
    REQUIRE(headers.count("traceparent") == 1);
    CHECK(headers.find("traceparent")->second == "00-" + trace_id + "-" + span + "-01");
    CHECK(headers.find("tracestate")->second == "rojo=1");
  }
  SUBCASE("a traceparent copied from the input is replaced, not sent twice") {
    auto headers = read(stamper.stamp(
        kernel::Outgoing{}.text("x").header("traceparent", parent).header("tracestate", "rojo=1"), &input, 1));
    REQUIRE(headers.count("traceparent") == 1);
    CHECK(headers.find("traceparent")->second == "00-" + trace_id + "-" + span + "-01");
    CHECK(headers.count("tracestate") == 1);
  }
  SUBCASE("a traceparent the handler set itself wins, with its tracestate") {
    const std::string own = "00-" + trace_id + "-b7ad6b7169203331-01";
    auto headers = read(stamper.stamp(
        kernel::Outgoing{}.text("x").header("traceparent", own).header("tracestate", "mine=2"), &input, 1));
    REQUIRE(headers.count("traceparent") == 1);
    CHECK(headers.find("traceparent")->second == own);
    CHECK(headers.find("tracestate")->second == "mine=2");
  }
}

TEST_CASE("an output of an input without trace context starts a trace: a valid traceparent, no tracestate") {
  kernel::detail::HeaderStamper stamper("k");
  auto input = kernel::testing::make_message({{"id", 1}}, "key", {{"traceparent", "00-bad"}, {"tracestate", "a=b"}});
  auto headers = read(stamper.stamp(kernel::Outgoing{}.text("x"), &input, 1));
  REQUIRE(headers.count("traceparent") == 1);
  const auto parsed = kernel::detail::parse_traceparent(headers.find("traceparent")->second);
  REQUIRE(parsed);
  CHECK(parsed->trace_id == kernel::detail::handling_trace(input).trace.trace_id());
  CHECK(headers.count("tracestate") == 0);
}

}  // namespace standard_headers_test
