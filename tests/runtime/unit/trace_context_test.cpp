#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "core/trace_context.hpp"
#include "kernel/kernel.hpp"
#include "kernel/testing.hpp"

namespace trace_context_test {

namespace {
const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string parent_id = "00f067aa0ba902b7";
const std::string valid = "00-" + trace_id + "-" + parent_id + "-01";

kernel::Message input_with(kernel::Headers headers, std::int64_t offset = 7) {
  return kernel::testing::make_message({{"id", 1}}, std::nullopt, std::move(headers), "orders", 2, offset);
}
}  // namespace

TEST_CASE("traceparent: what is read, what is refused") {
  struct Row {
    const char* what;
    std::string value;
    bool accepted;
  };
  const std::string zeros32(32, '0'), zeros16(16, '0');
  const Row rows[] = {
      {"version 00", valid, true},
      {"flags kept as they came", "00-" + trace_id + "-" + parent_id + "-00", true},
      {"a later version, exactly 55", "01-" + trace_id + "-" + parent_id + "-01", true},
      {"a later version with more fields after a '-'", "cc-" + trace_id + "-" + parent_id + "-01-what-comes", true},
      {"empty", "", false},
      {"version 00, one character short", valid.substr(0, 54), false},
      {"version 00, one character more", valid + "0", false},
      {"version 00 with a field more", valid + "-00", false},
      {"a later version, longer, no '-' after the flags", "01-" + trace_id + "-" + parent_id + "-01x", false},
      {"version ff", "ff-" + trace_id + "-" + parent_id + "-01", false},
      {"uppercase hex", "00-" + std::string("4BF92F3577B34DA6A3CE929D0E0E4736") + "-" + parent_id + "-01", false},
      {"not hex in the trace id", "00-" + trace_id.substr(0, 31) + "g-" + parent_id + "-01", false},
      {"not hex in the parent id", "00-" + trace_id + "-" + parent_id.substr(0, 15) + "z-01", false},
      {"not hex in the flags", "00-" + trace_id + "-" + parent_id + "-0x", false},
      {"not hex in the version", "0x-" + trace_id + "-" + parent_id + "-01", false},
      {"all-zero trace id", "00-" + zeros32 + "-" + parent_id + "-01", false},
      {"all-zero parent id", "00-" + trace_id + "-" + zeros16 + "-01", false},
      {"separator missing", "00_" + trace_id + "-" + parent_id + "-01", false},
      {"separators moved", "00-" + trace_id.substr(1) + "-0" + parent_id + "-01", false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.what);
    CAPTURE(row.value);
    const auto parsed = kernel::detail::parse_traceparent(row.value);
    CHECK(parsed.has_value() == row.accepted);
    if (parsed) {
      CHECK(parsed->trace_id == trace_id);
      CHECK(parsed->parent_id == parent_id);
    }
  }
  CHECK(kernel::detail::parse_traceparent(valid)->flags == 1);
}

TEST_CASE("tracestate: passed on within the spec's bounds, dropped beyond") {
  using kernel::detail::acceptable_tracestate;
  CHECK(acceptable_tracestate("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"));
  CHECK(acceptable_tracestate(std::string(512, 'a')));
  CHECK_FALSE(acceptable_tracestate(std::string(513, 'a')));
  std::string members;
  for (int i = 0; i < 32; ++i) members += (i ? ", k" : "k") + std::to_string(i) + "=v";
  CHECK(acceptable_tracestate(members));
  CHECK_FALSE(acceptable_tracestate(members + ",k32=v"));
  CHECK(acceptable_tracestate(members + ",,  ,"));  // empty members do not count
  CHECK_FALSE(acceptable_tracestate("a=b\nc=d"));
  CHECK_FALSE(acceptable_tracestate(std::string("a=\x80", 3)));
}

TEST_CASE("an input's trace continues: same trace id and flags, a span of its own, tracestate kept") {
  const auto input = input_with({{"traceparent", valid}, {"tracestate", "rojo=00f067aa0ba902b7"}});
  const auto handling = kernel::detail::handling_trace(input);
  CHECK(handling.trace.trace_id() == trace_id);
  CHECK(handling.trace.span_id().size() == 16);
  CHECK(handling.trace.span_id() != parent_id);
  CHECK(handling.trace.sampled());
  CHECK(handling.tracestate == "rojo=00f067aa0ba902b7");
  CHECK_FALSE(handling.malformed);
  // Derived again, anywhere in this process: the same ids.
  CHECK(kernel::detail::handling_trace(input).trace.span_id() == handling.trace.span_id());
  // Another input: another span.
  CHECK(kernel::detail::handling_trace(input_with({{"traceparent", valid}}, 8)).trace.span_id() !=
        handling.trace.span_id());
  const auto unsampled = input_with({{"traceparent", "00-" + trace_id + "-" + parent_id + "-00"}});
  CHECK_FALSE(kernel::detail::handling_trace(unsampled).trace.sampled());
}

TEST_CASE("an input without a traceparent starts a sampled trace; not counted as malformed") {
  const auto handling = kernel::detail::handling_trace(input_with({{"tracestate", "rojo=1"}}));
  CHECK(handling.trace.trace_id().size() == 32);
  CHECK(handling.trace.trace_id() != std::string(32, '0'));
  CHECK(handling.trace.sampled());
  CHECK(handling.tracestate.empty());  // nothing to belong to
  CHECK_FALSE(handling.malformed);
  CHECK(kernel::detail::handling_trace(input_with({}, 9)).trace.trace_id() != handling.trace.trace_id());
}

TEST_CASE("a malformed traceparent is replaced by a new trace, its tracestate dropped, and flagged") {
  const auto input = input_with({{"traceparent", "ff-" + trace_id + "-" + parent_id + "-01"}, {"tracestate", "a=b"}});
  const auto handling = kernel::detail::handling_trace(input);
  CHECK(handling.malformed);
  CHECK_FALSE(handling.trace.empty());
  CHECK(handling.trace.trace_id() != trace_id);
  CHECK(handling.tracestate.empty());
  SUBCASE("an unacceptable tracestate alone is dropped and flagged; the trace goes on") {
    const auto long_state = input_with({{"traceparent", valid}, {"tracestate", std::string(600, 'a')}});
    const auto kept = kernel::detail::handling_trace(long_state);
    CHECK(kept.malformed);
    CHECK(kept.trace.trace_id() == trace_id);
    CHECK(kept.tracestate.empty());
  }
}

TEST_CASE("TraceContext: traceparent() for the next hop names this handling's span as the parent") {
  const kernel::TraceContext trace(trace_id, "b7ad6b7169203331", 0x01);
  CHECK(trace.traceparent() == "00-" + trace_id + "-b7ad6b7169203331-01");
  CHECK(kernel::TraceContext().traceparent().empty());
  CHECK(kernel::TraceContext().trace_id().empty());
  CHECK(kernel::TraceContext("not hex", "b7ad6b7169203331", 1).empty());
  CHECK(kernel::TraceContext(trace_id, std::string(16, '0'), 1).empty());
}

TEST_CASE("context.trace() is the handling's during a handler call, empty outside") {
  kernel::testing::TestContext context;
  CHECK(context.trace().empty());
  std::string seen;
  const auto input = input_with({{"traceparent", valid}});
  const auto outcome = kernel::testing::call(
      [&](const kernel::Message&, kernel::Context& ctx) { seen = ctx.trace().traceparent(); }, input, context);
  CHECK(outcome.ok());
  CHECK(seen.starts_with("00-" + trace_id + "-"));
  CHECK(seen.substr(36, 16) == kernel::detail::handling_trace(input).trace.span_id());
  CHECK(context.trace().empty());
}

}  // namespace trace_context_test
