// Consumer and producer middleware: order, outcome visibility, short-circuit, and the
// built-in logging, correlation and metrics layers.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>

#include "core/context_access.hpp"
#include "kernel/middleware.hpp"
#include "kernel/testing.hpp"
#include "log/logging.hpp"
#include "ops/kernel_metrics.hpp"

namespace middleware_test {

using kernel::Context;
using kernel::Message;
using kernel::Next;
using kernel::Outcome;
using kernel::Outgoing;

namespace {

/// A middleware that records when it runs, before and after next.
kernel::ConsumerMiddleware tracer(std::vector<std::string>& trace, std::string name) {
  return [&trace, name](const Message& message, Context& context, const Next& next) {
    trace.push_back(name + ">");
    auto outcome = next(message, context);
    trace.push_back("<" + name + ":" + std::string(kernel::to_string(outcome.kind)));
    return outcome;
  };
}

}  // namespace

TEST_CASE("consumer middleware runs in the order added, outermost first, around the handler") {
  std::vector<std::string> trace;
  kernel::Handler handler = [&trace](const Message&, Context&) { trace.push_back("handler"); };
  kernel::testing::TestContext context;
  auto message = kernel::testing::make_message({{"id", 1}});
  auto outcome = kernel::testing::call(handler, {tracer(trace, "a"), tracer(trace, "b")}, message, context);
  CHECK(outcome.ok());
  CHECK(trace == std::vector<std::string>{"a>", "b>", "handler", "<b:success", "<a:success"});
}

TEST_CASE("middleware sees the outcome of a handler that throws, already as an Outcome") {
  std::vector<std::string> trace;
  kernel::Handler handler = [](const Message&, Context&) { throw kernel::TransientError("db down"); };
  kernel::testing::TestContext context;
  auto message = kernel::testing::make_message({{"id", 1}});
  std::string seen_message;
  kernel::ConsumerMiddleware inspect = [&](const Message& m, Context& c, const Next& next) {
    auto outcome = next(m, c);
    seen_message = outcome.message;
    return outcome;
  };
  auto outcome = kernel::testing::call(handler, {tracer(trace, "outer"), inspect}, message, context);
  CHECK(outcome.kind == Outcome::Kind::transient);
  CHECK(seen_message == "db down");
  CHECK(trace.back() == "<outer:transient");
}

TEST_CASE("middleware can short-circuit: the handler and inner layers are not called") {
  std::vector<std::string> trace;
  bool handled = false;
  kernel::Handler handler = [&](const Message&, Context&) { handled = true; };
  kernel::ConsumerMiddleware filter = [](const Message& m, Context&, const Next&) {
    return m.header("skip") ? Outcome::business("filtered out") : Outcome::success();
  };
  kernel::testing::TestContext context;
  auto skipped = kernel::testing::make_message({{"id", 1}}, std::nullopt, {{"skip", "yes"}});
  auto outcome =
      kernel::testing::call(handler, {tracer(trace, "outer"), filter, tracer(trace, "inner")}, skipped, context);
  CHECK_FALSE(handled);
  CHECK(outcome.kind == Outcome::Kind::business);
  CHECK(trace == std::vector<std::string>{"outer>", "<outer:business"});
}

TEST_CASE("middleware can replace the outcome and an exception in middleware becomes one") {
  kernel::Handler handler = [](const Message&, Context&) { throw kernel::PermanentError("bad"); };
  kernel::testing::TestContext context;
  auto message = kernel::testing::make_message({{"id", 1}});
  SUBCASE("downgrade to a business error") {
    kernel::ConsumerMiddleware soften = [](const Message& m, Context& c, const Next& next) {
      auto outcome = next(m, c);
      return outcome.kind == Outcome::Kind::permanent ? Outcome::business("tolerated: " + outcome.message) : outcome;
    };
    auto outcome = kernel::testing::call(handler, {soften}, message, context);
    CHECK(outcome.kind == Outcome::Kind::business);
    CHECK(outcome.message == "tolerated: bad");
  }
  SUBCASE("throwing middleware") {
    kernel::ConsumerMiddleware broken = [](const Message&, Context&, const Next&) -> Outcome {
      throw std::runtime_error("connection refused");
    };
    auto outcome = kernel::testing::call(handler, {broken}, message, context);
    CHECK(outcome.kind == Outcome::Kind::transient);  // classified by its message
  }
}

TEST_CASE("producer middleware wraps each produce in order, sees the input, and can change or drop") {
  kernel::testing::TestContext context;
  std::vector<std::string> trace;
  context.set_producer_middleware({
      [&](Outgoing& out, const Message& in, Context& c, const kernel::NextProduce& next) {
        trace.push_back("outer:" + std::string(in.key().value_or("-")));
        out.header("tenant", std::string(in.header("tenant").value_or("none")));
        next(out, in, c);
      },
      [&](Outgoing& out, const Message& in, Context& c, const kernel::NextProduce& next) {
        trace.push_back("inner");
        if (out.key() == std::optional<std::string>("drop")) return;  // filtered: never queued
        next(out, in, c);
      },
  });
  kernel::Handler handler = [](const Message&, Context& c) {
    c.produce(Outgoing{}.key("keep").json({{"n", 1}}));
    c.produce(Outgoing{}.key("drop").json({{"n", 2}}));
  };
  auto input = kernel::testing::make_message({{"id", 1}}, "k1", {{"tenant", "acme"}});
  auto outcome = kernel::testing::call(handler, input, context);
  CHECK(outcome.ok());
  REQUIRE(context.produced().size() == 1);
  CHECK(context.produced()[0].key() == std::optional<std::string>("keep"));
  CHECK(context.produced()[0].headers() == std::vector<std::pair<std::string, std::string>>{{"tenant", "acme"}});
  CHECK(trace == std::vector<std::string>{"outer:k1", "inner", "outer:k1", "inner"});
  CHECK(context.input() == nullptr);  // only set during the call
}

TEST_CASE("an exception in producer middleware is the handler's outcome") {
  kernel::testing::TestContext context;
  context.set_producer_middleware({[](Outgoing&, const Message&, Context&, const kernel::NextProduce&) {
    throw kernel::PermanentError("schema check failed");
  }});
  kernel::Handler handler = [](const Message&, Context& c) { c.produce(Outgoing{}.json({{"n", 1}})); };
  auto outcome = kernel::testing::call(handler, kernel::testing::make_message({{"id", 1}}), context);
  CHECK(outcome.kind == Outcome::Kind::permanent);
  CHECK(outcome.message == "schema check failed");
  CHECK(context.produced().empty());
}

TEST_CASE("built-in logging middleware: debug per message, warn per failure, with where and how long") {
  std::ostringstream lines;
  auto logger = std::make_shared<spdlog::logger>("mw-test", std::make_shared<spdlog::sinks::ostream_sink_st>(lines));
  logger->set_pattern("%l %v");
  Context context("mw-test", std::string("out"), logger);
  auto message = kernel::testing::make_message({{"id", 1}}, std::nullopt, {}, "orders", 3, 42);
  kernel::Handler ok = [](const Message&, Context&) {};
  kernel::Handler failing = [](const Message&, Context&) { throw kernel::BusinessError("already shipped"); };

  SUBCASE("debug on") {
    logger->set_level(spdlog::level::debug);
    kernel::testing::call(ok, {kernel::middleware::logging()}, message, context);
    const auto text = lines.str();
    CHECK(text.find("debug handled orders[3]@42 in ") != std::string::npos);
    CHECK(text.find(" ms (attempt 1): success") != std::string::npos);
  }
  SUBCASE("info: successes are silent, failures warn") {
    logger->set_level(spdlog::level::info);
    kernel::testing::call(ok, {kernel::middleware::logging()}, message, context);
    CHECK(lines.str().empty());
    kernel::testing::call(failing, {kernel::middleware::logging()}, message, context);
    const auto text = lines.str();
    CHECK(text.find("warning business at orders[3]@42 after ") != std::string::npos);
    CHECK(text.find("kernel::BusinessError: already shipped") != std::string::npos);
  }
}

TEST_CASE("built-in correlation middleware puts the correlation id in the log context for the call") {
  std::string seen;
  kernel::Handler handler = [&seen](const Message&, Context&) {
    seen = kernel::detail::current_log_scope().correlation_id;
  };
  kernel::testing::TestContext context;
  auto message = kernel::testing::make_message({{"id", 1}}, std::nullopt, {{"correlation-id", "corr-123"}});
  kernel::testing::call(handler, {kernel::middleware::correlation()}, message, context);
  CHECK(seen == "corr-123");
  CHECK(kernel::detail::current_log_scope().correlation_id.empty());

  SUBCASE("cleared even when the handler throws") {
    kernel::Handler throwing = [](const Message&, Context&) { throw std::runtime_error("boom"); };
    kernel::testing::call(throwing, {kernel::middleware::correlation()}, message, context);
    CHECK(kernel::detail::current_log_scope().correlation_id.empty());
  }
}

TEST_CASE("built-in metrics middleware counts outcomes per topic and times the handler") {
  kernel::detail::KernelMetrics metrics(2);  // 2 retries: attempts 1 and 2 retry, 3 dead-letters
  kernel::testing::TestContext context;
  kernel::detail::ContextAccess::set_metrics(context, &metrics);
  auto message = kernel::testing::make_message({{"id", 1}}, std::nullopt, {}, "orders");
  const std::vector<kernel::ConsumerMiddleware> chain{kernel::middleware::metrics()};
  CHECK(kernel::middleware::is_metrics(chain[0]));
  CHECK_FALSE(kernel::middleware::is_metrics(kernel::middleware::logging()));

  kernel::testing::call([](const Message&, Context&) {}, chain, message, context);
  kernel::testing::call([](const Message&, Context&) { throw kernel::BusinessError("no"); }, chain, message, context);
  kernel::Handler transient = [](const Message&, Context&) { throw kernel::TransientError("later"); };
  for (int attempt = 1; attempt <= 3; ++attempt) {
    context.begin_attempt(attempt);
    kernel::testing::call(transient, chain, message, context);
  }
  context.begin_attempt(1);
  kernel::testing::call([](const Message&, Context&) { throw kernel::PermanentError("bad"); }, chain, message, context);

  auto& topic = metrics.input_topic("orders");
  using kernel::detail::HandledOutcome;
  CHECK(topic.handled[static_cast<int>(HandledOutcome::success)]->Value() == 1);
  CHECK(topic.handled[static_cast<int>(HandledOutcome::business_error)]->Value() == 1);
  CHECK(topic.handled[static_cast<int>(HandledOutcome::retried)]->Value() == 2);
  CHECK(topic.handled[static_cast<int>(HandledOutcome::dead_lettered)]->Value() == 2);
  const auto text = metrics.serialize();
  CHECK(text.find("kernel_handler_duration_seconds_count{topic=\"orders\"} 6") != std::string::npos);
  CHECK(text.find("kernel_messages_handled_total{outcome=\"retried\",topic=\"orders\"} 2") != std::string::npos);
}

TEST_CASE("metrics middleware does nothing when metrics are off") {
  kernel::testing::TestContext context;  // no metrics set
  bool called = false;
  auto outcome = kernel::testing::call([&](const Message&, Context&) { called = true; },
                                       {kernel::middleware::metrics()}, kernel::testing::make_message({}), context);
  CHECK(called);
  CHECK(outcome.ok());
}

}  // namespace middleware_test
