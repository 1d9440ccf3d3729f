// The trace context in the log lines written while handling a message (text and JSON), and the
// metrics middleware's count of malformed trace context.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/context_access.hpp"
#include "core/trace_context.hpp"
#include "kernel/kernel.hpp"
#include "kernel/testing.hpp"
#include "log/logging.hpp"
#include "ops/kernel_metrics.hpp"

namespace trace_logs_test {

namespace {

const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string traceparent = "00-" + trace_id + "-00f067aa0ba902b7-01";

/// What the logger writes to stderr while `run` runs.
template <typename F>
std::string stderr_of(F run) {
  std::fflush(stderr);
  char path[] = "/tmp/trace-logs-XXXXXX";
  const int file = mkstemp(path);
  REQUIRE(file >= 0);
  const int saved = dup(2);
  dup2(file, 2);
  run();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(file);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(path);
  return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// A handler that logs once, called on an input with a traceparent, with a line before and after.
std::string handled_with_logs(const std::string& format, std::string& span_id) {
  auto logger = kernel::detail::make_logger("k", "info", format);
  kernel::Context context("k", std::nullopt, logger);
  const auto input =
      kernel::testing::make_message({{"id", 1}}, std::nullopt, {{"traceparent", traceparent}}, "orders", 0, 5);
  span_id = std::string(kernel::detail::handling_trace(input).trace.span_id());
  return stderr_of([&] {
    logger->info("before");
    kernel::testing::call([](const kernel::Message&, kernel::Context& ctx) { ctx.log().info("inside"); }, input,
                          context);
    logger->info("after");
  });
}

}  // namespace

TEST_CASE("JSON log lines written while handling carry trace_id and span_id; others do not") {
  std::string span_id;
  const auto lines = lines_of(handled_with_logs("json", span_id));
  REQUIRE(lines.size() == 3);
  const auto before = nlohmann::json::parse(lines[0]), inside = nlohmann::json::parse(lines[1]),
             after = nlohmann::json::parse(lines[2]);
  CHECK(inside["msg"] == "inside");
  CHECK(inside["trace_id"] == trace_id);
  CHECK(inside["span_id"] == span_id);
  CHECK_FALSE(before.contains("trace_id"));
  CHECK_FALSE(after.contains("span_id"));
}

TEST_CASE("text log lines written while handling end with trace_id= and span_id=; others do not") {
  std::string span_id;
  const auto lines = lines_of(handled_with_logs("text", span_id));
  REQUIRE(lines.size() == 3);
  CHECK(lines[1].ends_with("] inside trace_id=" + trace_id + " span_id=" + span_id));
  CHECK(lines[0].ends_with("] before"));
  CHECK(lines[2].ends_with("] after"));
}

TEST_CASE("the metrics middleware counts an input's malformed trace context once, on its first attempt") {
  kernel::detail::KernelMetrics metrics(3);
  kernel::testing::TestContext context;
  kernel::detail::ContextAccess::set_metrics(context, &metrics);
  const std::vector<kernel::ConsumerMiddleware> chain{kernel::middleware::metrics()};
  kernel::Handler handler = [](const kernel::Message&, kernel::Context&) {};
  const auto malformed = kernel::testing::make_message({}, std::nullopt, {{"traceparent", "00-nonsense"}});
  kernel::testing::call(handler, chain, malformed, context);
  CHECK(metrics.trace_context_invalid().Value() == 1);
  context.begin_attempt(2);
  kernel::testing::call(handler, chain, malformed, context);  // its retry: the same input
  context.begin_attempt(1);
  kernel::testing::call(handler, chain, kernel::testing::make_message({}, std::nullopt, {{"traceparent", traceparent}}),
                        context);
  kernel::testing::call(handler, chain, kernel::testing::make_message({}), context);  // none: a new trace, not counted
  CHECK(metrics.trace_context_invalid().Value() == 1);
  CHECK(metrics.serialize().find("kernel_trace_context_invalid_total 1") != std::string::npos);
}

}  // namespace trace_logs_test
