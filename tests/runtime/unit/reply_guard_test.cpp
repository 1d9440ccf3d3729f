// The reply rule (config/reply_guard.hpp): a reply-to is untrusted, so it never names the
// kernel's own topics or an internal one, starts with KAFKA_TOPIC_PREFIX and matches
// KERNEL_REPLY_TOPICS (by default, kernel::Requester's reply topics).
#include <doctest/doctest.h>

#include <string>

#include "config/reply_guard.hpp"
#include "config/settings.hpp"
#include "kernel/config.hpp"
#include "kernel/env_vars.hpp"

namespace reply_guard_test {

using namespace kernel;

namespace {

const KernelDefaults orders{"orders-enricher", {"orders"}, std::string("orders.enriched")};

ReplyGuard guard_for(Environment env) {
  env.try_emplace(env_var::KAFKA_BOOTSTRAP_SERVERS, "broker:9092");
  const auto config = Config::load(orders, env, RunMode::production, "/nonexistent-dir/.env");
  return ReplyGuard(config.settings());
}

bool refused(const ReplyGuard& guard, std::string_view topic) { return !guard.refusal(topic).empty(); }

}  // namespace

TEST_CASE("reply rule: by default a requester's reply topic is allowed and nothing else") {
  const auto guard = guard_for({});
  CHECK_FALSE(refused(guard, "gateway.replies.pod-1"));
  CHECK(refused(guard, "billing.ledger"));
  CHECK(guard.refusal("billing.ledger").find("KERNEL_REPLY_TOPICS") != std::string::npos);
}

TEST_CASE("reply rule: the kernel's own topics are refused, even when KERNEL_REPLY_TOPICS would match them") {
  const auto guard = guard_for({{env_var::KERNEL_REPLY_TOPICS, "*"},
                                {env_var::KERNEL_RETRY_TOPICS, "5s"},
                                {env_var::KAFKA_ERROR_TOPIC, "orders.errors"}});
  CHECK(refused(guard, "orders"));               // its input: a loop
  CHECK(refused(guard, "orders.enriched"));      // its output: forged records downstream
  CHECK(refused(guard, "orders-enricher.dlq"));  // forged dead letters
  CHECK(refused(guard, "orders.errors"));
  CHECK(refused(guard, "orders-enricher.retry.1"));  // a loop through the retry topic
  CHECK(guard.refusal("orders").find("own topics") != std::string::npos);
  CHECK_FALSE(refused(guard, "anything.else"));
}

TEST_CASE("reply rule: internal topics (a name starting with _) are refused") {
  const auto guard = guard_for({{env_var::KERNEL_REPLY_TOPICS, "*"}});
  CHECK(refused(guard, "__consumer_offsets"));
  CHECK(refused(guard, "_schemas"));
  CHECK(guard.refusal("_schemas").find("internal") != std::string::npos);
}

TEST_CASE("reply rule: with KAFKA_TOPIC_PREFIX the reply-to starts with it, and patterns match after it") {
  const auto guard = guard_for({{env_var::KAFKA_TOPIC_PREFIX, "staging."}});
  CHECK_FALSE(refused(guard, "staging.gateway.replies.pod-1"));
  CHECK(refused(guard, "gateway.replies.pod-1"));
  CHECK(guard.refusal("prod.gateway.replies.pod-1").find("KAFKA_TOPIC_PREFIX") != std::string::npos);
}

TEST_CASE("reply rule: KERNEL_REPLY_TOPICS takes several glob patterns") {
  const auto guard = guard_for({{env_var::KERNEL_REPLY_TOPICS, "gateway.replies.*,answers"}});
  CHECK_FALSE(refused(guard, "gateway.replies.a"));
  CHECK_FALSE(refused(guard, "answers"));
  CHECK(refused(guard, "answers.x"));
  CHECK(refused(guard, "checkout.replies.a"));
}

TEST_CASE("glob_match: * is any run of characters, the rest literal") {
  CHECK(glob_match("*.replies.*", "a.replies.b"));
  CHECK(glob_match("*.replies.*", "a.b.replies.c.d"));
  CHECK_FALSE(glob_match("*.replies.*", "replies.b"));
  CHECK_FALSE(glob_match("*.replies.*", "a.replies"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("a*b*c", "aXbYbZc"));
  CHECK_FALSE(glob_match("a*b*c", "aXbYbZ"));
  CHECK(glob_match("exact", "exact"));
  CHECK_FALSE(glob_match("exact", "exactly"));
}

}  // namespace reply_guard_test
