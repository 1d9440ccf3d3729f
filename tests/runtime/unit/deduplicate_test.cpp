// deduplicate(): the window (count and age), what marks an id as completed, the key function,
// messages without an id, the metric, KERNEL_DEDUP_WINDOW, and use from several threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "config/registry.hpp"
#include "config/settings.hpp"
#include "core/context_access.hpp"
#include "kernel/middleware.hpp"
#include "kernel/testing.hpp"
#include "middleware/completed_ids.hpp"
#include "middleware/deduplicate.hpp"
#include "ops/kernel_metrics.hpp"

namespace deduplicate_test {

using kernel::Context;
using kernel::Message;
using kernel::Outcome;
using namespace std::chrono_literals;

namespace {

/// A handler that counts its calls and returns what `next_outcome` says.
struct CountingHandler {
  int calls = 0;
  Outcome next_outcome = Outcome::success();
  kernel::Handler handler() {
    return [this](const Message&, Context&) {
      ++calls;
      return next_outcome;
    };
  }
};

Message with_event_id(const std::string& id, std::string topic = "orders") {
  return kernel::testing::make_message({{"id", id}}, std::nullopt, {{"event-id", id}}, std::move(topic));
}

/// A clock the test moves by hand.
struct ManualClock {
  std::shared_ptr<std::chrono::steady_clock::time_point> now =
      std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::time_point{} + 1h);
  std::function<std::chrono::steady_clock::time_point()> function() const {
    return [now = now] { return *now; };
  }
  void advance(std::chrono::milliseconds by) const { *now += by; }
};

}  // namespace

TEST_CASE("deduplicate drops an input whose event-id completed, and counts it as a success") {
  CountingHandler counting;
  const auto handler = counting.handler();
  const std::vector<kernel::ConsumerMiddleware> chain{kernel::middleware::deduplicate()};
  kernel::detail::KernelMetrics metrics(3);
  kernel::testing::TestContext context;
  kernel::detail::ContextAccess::set_metrics(context, &metrics);

  CHECK(kernel::testing::call(handler, chain, with_event_id("e-1"), context).ok());
  CHECK(kernel::testing::call(handler, chain, with_event_id("e-1"), context).ok());
  CHECK(kernel::testing::call(handler, chain, with_event_id("e-2"), context).ok());
  CHECK(kernel::testing::call(handler, chain, with_event_id("e-1", "payments"), context).ok());
  CHECK(counting.calls == 2);
  const auto text = metrics.serialize();
  CHECK(text.find("kernel_messages_deduplicated_total{topic=\"orders\"} 1") != std::string::npos);
  CHECK(text.find("kernel_messages_deduplicated_total{topic=\"payments\"} 1") != std::string::npos);
}

TEST_CASE("deduplicate lets through a message without an event-id, or with an empty one") {
  CountingHandler counting;
  const auto handler = counting.handler();
  const std::vector<kernel::ConsumerMiddleware> chain{kernel::middleware::deduplicate()};
  kernel::testing::TestContext context;
  for (int i = 0; i < 3; ++i) {
    CHECK(kernel::testing::call(handler, chain, kernel::testing::make_message({{"id", 1}}), context).ok());
    CHECK(kernel::testing::call(handler, chain, kernel::testing::make_message({}, std::nullopt, {{"event-id", ""}}),
                                context)
              .ok());
  }
  CHECK(counting.calls == 6);
}

TEST_CASE("a failed attempt does not mark its id: the retry runs; a business error does") {
  CountingHandler counting;
  const auto handler = counting.handler();
  const std::vector<kernel::ConsumerMiddleware> chain{kernel::middleware::deduplicate()};
  kernel::testing::TestContext context;
  SUBCASE("transient, then its retry") {
    counting.next_outcome = Outcome::transient("database away");
    CHECK(kernel::testing::call(handler, chain, with_event_id("e-1"), context).kind == Outcome::Kind::transient);
    counting.next_outcome = Outcome::success();
    CHECK(kernel::testing::call(handler, chain, with_event_id("e-1"), context).ok());
    CHECK(counting.calls == 2);
  }
  SUBCASE("permanent (dead-lettered), then a replay") {
    counting.next_outcome = Outcome::permanent("bad");
    (void)kernel::testing::call(handler, chain, with_event_id("e-1"), context);
    counting.next_outcome = Outcome::success();
    CHECK(kernel::testing::call(handler, chain, with_event_id("e-1"), context).ok());
    CHECK(counting.calls == 2);
  }
  SUBCASE("an exception from the handler") {
    const kernel::Handler throwing = [&](const Message&, Context&) {
      ++counting.calls;
      throw kernel::TransientError("later");
    };
    (void)kernel::testing::call(throwing, chain, with_event_id("e-1"), context);
    CHECK(kernel::testing::call(handler, chain, with_event_id("e-1"), context).ok());
    CHECK(counting.calls == 2);
  }
  SUBCASE("a business error is an answer: completed") {
    counting.next_outcome = Outcome::business("no such customer");
    CHECK(kernel::testing::call(handler, chain, with_event_id("e-1"), context).kind == Outcome::Kind::business);
    CHECK(kernel::testing::call(handler, chain, with_event_id("e-1"), context).ok());
    CHECK(counting.calls == 1);
  }
}

TEST_CASE("the chain's success marks nothing until the runtime concludes the attempt as completed") {
  // The loop may overrule a success the chain returned (a call past KERNEL_HANDLER_TIMEOUT, a
  // refused produce the handler caught): the id waits for the loop's verdict.
  CountingHandler counting;
  const kernel::Chain chain(counting.handler(), {kernel::middleware::deduplicate()});
  kernel::testing::TestContext context;
  using kernel::detail::ContextAccess;

  context.begin_attempt(1);
  CHECK(chain(with_event_id("e-1"), context).ok());
  CHECK(ContextAccess::completion_actions(context).size() == 1);
  context.begin_attempt(2);  // overruled: the loop dropped what waited, and retries
  CHECK(ContextAccess::completion_actions(context).empty());
  CHECK(chain(with_event_id("e-1"), context).ok());
  CHECK(counting.calls == 2);
  for (auto& hook : ContextAccess::take_completion_actions(context)) hook.complete();  // concluded completed

  context.begin_attempt(1);
  CHECK(chain(with_event_id("e-1"), context).ok());
  CHECK(counting.calls == 2);  // now a duplicate
  // Its work lost before it was committed (its partition handed over, a transaction aborted):
  // the runtime undoes the mark, and a redelivery runs again.
  auto hooks = ContextAccess::take_completion_actions(context);
  REQUIRE(hooks.size() == 0);  // a dropped duplicate leaves nothing to undo
  context.begin_attempt(1);
  CHECK(chain(with_event_id("e-2"), context).ok());
  hooks = ContextAccess::take_completion_actions(context);
  REQUIRE(hooks.size() == 1);
  hooks[0].complete();
  context.begin_attempt(1);
  CHECK(chain(with_event_id("e-2"), context).ok());
  CHECK(counting.calls == 3);  // e-2 ran once
  hooks[0].undo();
  context.begin_attempt(1);
  CHECK(chain(with_event_id("e-2"), context).ok());
  CHECK(counting.calls == 4);  // forgotten: runs again
}

TEST_CASE("deduplicate forgets the oldest completed id beyond the window's count") {
  CountingHandler counting;
  const auto handler = counting.handler();
  const std::vector<kernel::ConsumerMiddleware> chain{kernel::middleware::deduplicate({.count = 3})};
  kernel::testing::TestContext context;
  for (const auto* id : {"a", "b", "c", "d"}) kernel::testing::call(handler, chain, with_event_id(id), context);
  CHECK(counting.calls == 4);
  // "a" was pushed out by "d"; "b", "c", "d" are remembered.
  for (const auto* id : {"b", "c", "d"}) kernel::testing::call(handler, chain, with_event_id(id), context);
  CHECK(counting.calls == 4);
  kernel::testing::call(handler, chain, with_event_id("a"), context);
  CHECK(counting.calls == 5);
}

TEST_CASE("deduplicate forgets a completed id once it is older than the window's age") {
  ManualClock clock;
  CountingHandler counting;
  const auto handler = counting.handler();
  const std::vector<kernel::ConsumerMiddleware> chain{
      kernel::middleware::deduplicate({.age = 10s, .clock = clock.function()})};
  kernel::testing::TestContext context;
  kernel::testing::call(handler, chain, with_event_id("a"), context);
  clock.advance(6s);
  kernel::testing::call(handler, chain, with_event_id("b"), context);
  clock.advance(3s);  // a: 9 s old, b: 3 s
  kernel::testing::call(handler, chain, with_event_id("a"), context);
  kernel::testing::call(handler, chain, with_event_id("b"), context);
  CHECK(counting.calls == 2);
  clock.advance(1s);  // a: 10 s old, gone; b: 4 s
  kernel::testing::call(handler, chain, with_event_id("a"), context);
  kernel::testing::call(handler, chain, with_event_id("b"), context);
  CHECK(counting.calls == 3);
}

TEST_CASE("deduplicate by a key function: its value is the id; nullopt passes") {
  CountingHandler counting;
  const auto handler = counting.handler();
  const std::vector<kernel::ConsumerMiddleware> chain{
      kernel::middleware::deduplicate({.key = [](const Message& message) -> std::optional<std::string> {
        const auto document = message.json();
        if (!document.contains("order")) return std::nullopt;
        return document["order"].get<std::string>();
      }})};
  kernel::testing::TestContext context;
  // The same order under two event ids is one; the event-id header is not looked at.
  kernel::testing::call(handler, chain, kernel::testing::make_message({{"order", "o-1"}}, {}, {{"event-id", "1"}}),
                        context);
  kernel::testing::call(handler, chain, kernel::testing::make_message({{"order", "o-1"}}, {}, {{"event-id", "2"}}),
                        context);
  kernel::testing::call(handler, chain, kernel::testing::make_message({{"order", "o-2"}}, {}, {{"event-id", "1"}}),
                        context);
  kernel::testing::call(handler, chain, kernel::testing::make_message({{"other", 1}}), context);
  kernel::testing::call(handler, chain, kernel::testing::make_message({{"other", 1}}), context);
  CHECK(counting.calls == 4);
}

TEST_CASE("KERNEL_DEDUP_WINDOW sets what deduplicate() remembers; options given in code win") {
  SUBCASE("parsing") {
    kernel::Settings defaults;
    CHECK(defaults.dedup_window == kernel::DedupWindow{10000, 10min});
    const auto& registry = kernel::config_registry();
    const auto row = std::find_if(registry.begin(), registry.end(), [](const kernel::VariableSpec& spec) {
      return spec.name == kernel::env_var::KERNEL_DEDUP_WINDOW;
    });
    REQUIRE(row != registry.end());
    CHECK(row->default_value == "10000,10m");
    const auto read = [&](std::string text) {
      kernel::Settings settings;
      const auto error = row->read(text, settings);
      REQUIRE_MESSAGE(error.empty(), error);
      CHECK(row->check(settings).empty());
      return settings.dedup_window;
    };
    CHECK(read("500,30s") == kernel::DedupWindow{500, 30s});
    CHECK(read(" 500 , 30s ") == kernel::DedupWindow{500, 30s});
    CHECK(read("500") == kernel::DedupWindow{500, 10min});
    CHECK(read("1h") == kernel::DedupWindow{10000, 1h});
    kernel::Settings settings;
    settings.dedup_window = {500, 30s};
    CHECK(row->show(settings) == "500,30s");
    for (const auto* bad : {"0", "abc", "500,", "10s,1m", "5,6", "20000000"}) {
      CAPTURE(bad);
      CHECK_FALSE(row->read(bad, settings).empty());
    }
    CHECK(row->read("abc", settings) ==
          "\"abc\" is neither a count nor an age (expected a duration with a unit, e.g. 500ms or 10s (units: ms, s, "
          "m, h, d)); expected COUNT,AGE (e.g. 10000,10m), or either alone");
  }
  SUBCASE("the runtime's window applies to the parts left unset") {
    CountingHandler counting;
    const auto handler = counting.handler();
    const std::vector<kernel::ConsumerMiddleware> chain{kernel::middleware::deduplicate()};
    kernel::detail::configure_deduplicate(chain, {1, 10min});
    kernel::testing::TestContext context;
    for (const auto* id : {"a", "b", "a"}) kernel::testing::call(handler, chain, with_event_id(id), context);
    CHECK(counting.calls == 3);  // a count of 1 remembers only "b" when "a" comes again

    const std::vector<kernel::ConsumerMiddleware> in_code{kernel::middleware::deduplicate({.count = 5})};
    kernel::detail::configure_deduplicate(in_code, {1, 10min});
    for (const auto* id : {"a", "b", "a"}) kernel::testing::call(handler, in_code, with_event_id(id), context);
    CHECK(counting.calls == 5);
  }
}

TEST_CASE("CompletedIds stays within its count, and a repeat completion becomes the newest") {
  kernel::detail::CompletedIds ids(2, 1min);
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  ids.add("a", t0);
  ids.add("b", t0 + 1s);
  ids.add("a", t0 + 2s);  // again: now newer than b
  ids.add("c", t0 + 3s);  // pushes out b, the oldest
  CHECK(ids.size() == 2);
  CHECK(ids.completed("a", t0 + 3s) == t0 + 2s);
  CHECK_FALSE(ids.completed("b", t0 + 3s));
  CHECK(ids.completed("c", t0 + 3s));
  CHECK_FALSE(ids.completed("a", t0 + 2s + 1min));
  CHECK(ids.size() == 1);
}

TEST_CASE("deduplicate is safe from several threads: each id runs once") {
  std::atomic<int> calls = 0;
  const kernel::Handler handler = [&](const Message&, Context&) { ++calls; };
  const std::vector<kernel::ConsumerMiddleware> chain{kernel::middleware::deduplicate({.count = 100'000})};
  // Each thread handles the same ids in turn, after the first thread has completed them all.
  auto run = [&] {
    kernel::testing::TestContext context;
    for (int i = 0; i < 2'000; ++i) kernel::testing::call(handler, chain, with_event_id(std::to_string(i)), context);
  };
  run();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(run);
  for (auto& thread : threads) thread.join();
  CHECK(calls == 2'000);
}

TEST_CASE("deduplicate refuses a window that remembers nothing") {
  CHECK_THROWS_WITH_AS(kernel::middleware::deduplicate({.count = 0}),
                       "deduplicate(): .count must be at least 1 (leave it unset for KERNEL_DEDUP_WINDOW)",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(kernel::middleware::deduplicate({.age = 0ms}),
                       "deduplicate(): .age must be above 0 (leave it unset for KERNEL_DEDUP_WINDOW)",
                       std::invalid_argument);
}

}  // namespace deduplicate_test
