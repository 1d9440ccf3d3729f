// context.reply() and batch.reply(i): a reply is addressed by its request (reply-to, key,
// correlation id); a request without a usable reply-to fails its attempt.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/context_access.hpp"
#include "kernel/batch.hpp"
#include "kernel/testing.hpp"

namespace reply_test {

namespace {

kernel::Message request(kernel::Headers headers, std::string key = "order-7") {
  return kernel::testing::make_message({{"id", 7}}, std::move(key), std::move(headers));
}

const kernel::Handler replies = [](const kernel::Message&, kernel::Context& context) {
  context.reply(kernel::Outgoing{}.json({{"ok", true}}).correlation_id("not-this-one"));
};

}  // namespace

TEST_CASE("reply: to the request's reply-to named in full, keyed as the request, with its correlation id") {
  kernel::testing::TestContext context;
  const auto outcome = kernel::testing::call(
      replies, request({{"reply-to", "gateway.replies.host-1"}, {"correlation-id", "c-42"}}), context);
  REQUIRE(outcome.ok());
  REQUIRE(context.produced().size() == 1);
  const auto& reply = context.produced()[0];
  CHECK(reply.topic() == "gateway.replies.host-1");
  CHECK(reply.topic_is_exact());  // KAFKA_TOPIC_PREFIX is not added to it
  CHECK(reply.key() == "order-7");
  CHECK(reply.correlation_id() == "c-42");  // the requester matches by it: the handler's is replaced
}

TEST_CASE("reply: the handler's own correlation-id and reply-to headers are dropped, so the request's id wins") {
  kernel::testing::TestContext context;
  const auto outcome = kernel::testing::call(
      [](const kernel::Message&, kernel::Context& ctx) {
        ctx.reply(kernel::Outgoing{}
                      .text("x")
                      .header("correlation-id", "own")
                      .header("reply-to", "elsewhere")
                      .header("trace-note", "kept"));
      },
      request({{"reply-to", "gateway.replies.host-1"}, {"correlation-id", "c-42"}}), context);
  REQUIRE(outcome.ok());
  const auto& reply = context.produced().at(0);
  CHECK(reply.correlation_id() == "c-42");
  CHECK_FALSE(reply.headers().contains("correlation-id"));  // it would be written after, and win
  CHECK_FALSE(reply.headers().contains("reply-to"));
  CHECK(reply.headers().get("trace-note") == "kept");
}

TEST_CASE("headers: erase removes every header of that name and keeps the others' null marks") {
  kernel::Headers headers({{"a", "1"}, {"b", ""}, {"a", "2"}, {"c", ""}}, {1, 3});
  CHECK(headers.erase("a") == 2);
  REQUIRE(headers.size() == 2);
  CHECK(headers[0].first == "b");
  CHECK(headers.is_null(0));
  CHECK(headers.is_null(1));
  CHECK(headers.erase("a") == 0);
}

TEST_CASE("reply: a key the reply sets itself is kept") {
  kernel::testing::TestContext context;
  const auto outcome = kernel::testing::call(
      [](const kernel::Message&, kernel::Context& ctx) { ctx.reply(kernel::Outgoing{}.key("own").text("x")); },
      request({{"reply-to", "r"}}), context);
  REQUIRE(outcome.ok());
  CHECK(context.produced().at(0).key() == "own");
}

TEST_CASE("reply: a message without reply-to fails the attempt as validation_error, even when caught") {
  kernel::testing::TestContext context;
  const auto outcome = kernel::testing::call(
      [](const kernel::Message&, kernel::Context& ctx) { ctx.reply(kernel::Outgoing{}.text("x")); },
      request({{"correlation-id", "c-1"}}), context);
  CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  CHECK(outcome.reason == kernel::FailureReason::validation_error);
  CHECK(outcome.message.find("no reply-to header") != std::string::npos);
  // Kept as the attempt's refusal, which the runtime's executors turn into its outcome even when
  // the handler catches the exception (as for a topic the produce guard refuses).
  const auto& refused = kernel::detail::ContextAccess::produce_refusal(context);
  CHECK(refused.reason == kernel::FailureReason::validation_error);
  CHECK(refused.message == outcome.message);
}

TEST_CASE("reply: a reply-to that is no topic name fails as validation_error, shown escaped and cut") {
  kernel::testing::TestContext context;
  const std::string hostile = "bad\x1b[2Jtopic" + std::string(300, 'x');
  const auto outcome = kernel::testing::call(replies, request({{"reply-to", hostile}}), context);
  CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  CHECK(outcome.reason == kernel::FailureReason::validation_error);
  CHECK(outcome.message.find("\x1b") == std::string::npos);
  CHECK(outcome.message.size() < 300);
}

TEST_CASE("batch.reply(i) answers message i; a message of the batch without reply-to fails alone") {
  std::vector<kernel::Message> messages;
  messages.push_back(kernel::testing::make_message({{"n", 0}}, "k0", {{"reply-to", "r0"}, {"correlation-id", "c0"}}));
  messages.push_back(kernel::testing::make_message({{"n", 1}}, "k1", {}, "test-input", 0, 1));
  kernel::testing::TestContext context;
  kernel::Batch batch(messages, context);
  const auto outcome = kernel::testing::call(kernel::BatchHandler([](kernel::Batch& each, kernel::Context&) {
                                               for (std::size_t i = 0; i < each.size(); ++i) {
                                                 try {
                                                   each.reply(i, kernel::Outgoing{}.json({{"n", i}}));
                                                 } catch (const kernel::PermanentError&) {
                                                   // message 1 is failed by the runtime, not by this catch
                                                 }
                                               }
                                             }),
                                             batch, context);
  REQUIRE(outcome.ok());
  REQUIRE(batch.outputs(0).size() == 1);
  CHECK(batch.outputs(0)[0].topic() == "r0");
  CHECK(batch.outputs(0)[0].key() == "k0");
  CHECK(batch.outputs(0)[0].correlation_id() == "c0");
  CHECK_FALSE(batch.failed(0));
  REQUIRE(batch.failed(1));
  CHECK(batch.outcome(1).reason == kernel::FailureReason::validation_error);
}

TEST_CASE("reply: a failure reason of its own for a reply-to the produce guard refuses") {
  CHECK(kernel::to_string(kernel::FailureReason::reply_to_not_allowed) == "reply_to_not_allowed");
  CHECK(std::find(kernel::all_failure_reasons.begin(), kernel::all_failure_reasons.end(),
                  kernel::FailureReason::reply_to_not_allowed) != kernel::all_failure_reasons.end());
}

}  // namespace reply_test
