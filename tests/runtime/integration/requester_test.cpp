// Request/reply on the embedded broker: kernel::Requester against kernels answering with
// context.reply(): many requests in flight each matched to its own reply, timeouts, late and
// unknown replies, the cap on requests in flight, the produce guard on reply-to, and a kernel
// SIGKILLed while requests wait.
#include <doctest/doctest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/registry.h>

#include "broker/record_io.hpp"
#include "kernel/embedded_broker.hpp"
#include "kernel/env_vars.hpp"
#include "kernel/requester.hpp"
#include "kernel/testing.hpp"
#include "wait.hpp"

extern char** environ;

namespace requester_test {

namespace env_var = kernel::env_var;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// The embedded (mock) broker answers a fetch that found nothing only after fetch.wait.max.ms
// (500 ms by default), even when data comes meanwhile; a real broker answers when it comes. The
// round trips measured here take 10 ms, on the requester's and the kernel's consumers alike.
constexpr char short_fetch_wait[] = "10ms";

kernel::Requester requester_on(const std::string& servers, prometheus::Registry& registry,
                               kernel::RequesterOptions options = {}) {
  if (options.instance.empty()) options.instance = "test";
  options.producer.metrics = &registry;
  return kernel::Requester::from_environment("gateway",
                                             {{env_var::KAFKA_BOOTSTRAP_SERVERS, servers},
                                              {env_var::KERNEL_LOG_LEVEL, "warn"},
                                              {env_var::KAFKA_CONSUMER_MAX_WAIT, short_fetch_wait}},
                                             std::move(options));
}

double metric_value(prometheus::Registry& registry, const std::string& name, const std::string& label,
                    const std::string& value) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      for (const auto& each : metric.label) {
        if (each.name == label && each.value == value) return metric.counter.value;
      }
    }
  }
  return -1;
}

/// A kernel reading `<name>.in` that answers each request with its "n".
kernel::KernelSpec replying_kernel(const std::string& name) {
  kernel::KernelSpec spec;
  spec.name = name;
  spec.input_topics = {name + ".in"};
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    context.reply(kernel::Outgoing{}.json({{"n", message.json().at("n")}}));
  };
  return spec;
}

/// What became of a request: its reply's "n", or why it failed.
struct Answer {
  std::optional<int> n;
  bool timed_out = false;
  std::string error;
};

Answer answer_of(std::future<kernel::Message>& future) {
  Answer answer;
  try {
    answer.n = future.get().json().at("n").get<int>();
  } catch (const kernel::TransientError& error) {
    answer.timed_out = error.reason() == kernel::FailureReason::timeout;
    answer.error = error.what();
  } catch (const std::exception& error) {
    answer.error = error.what();
  }
  return answer;
}

/// The reply's round trips in ms, each seen by scanning the futures: resolution about 1 ms.
std::vector<double> round_trips(std::vector<std::future<kernel::Message>>& futures, Clock::time_point sent,
                                std::chrono::milliseconds timeout) {
  std::vector<double> ms(futures.size(), -1);
  std::size_t left = futures.size();
  const auto deadline = Clock::now() + timeout;
  while (left > 0 && Clock::now() < deadline) {
    for (std::size_t i = 0; i < futures.size(); ++i) {
      if (ms[i] < 0 && futures[i].wait_for(0s) == std::future_status::ready) {
        ms[i] = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
        --left;
      }
    }
    std::this_thread::sleep_for(1ms);  // polling a condition with a deadline
  }
  return ms;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

/// A kernel binary as a child process, SIGKILLed when the test is done with it.
class ChildKernel {
 public:
  ChildKernel(const std::string& binary, const std::vector<std::string>& settings) {
    std::vector<std::string> environment;
    for (char** each = environ; *each; ++each) {
      const std::string entry(*each);
      if (!entry.starts_with("KAFKA_") && !entry.starts_with("KERNEL_")) environment.push_back(entry);
    }
    environment.insert(environment.end(), settings.begin(), settings.end());
    std::vector<char*> envp;
    for (auto& entry : environment) envp.push_back(entry.data());
    envp.push_back(nullptr);
    std::string program = binary;
    char* argv[] = {program.data(), nullptr};
    if (posix_spawn(&pid_, program.c_str(), nullptr, nullptr, argv, envp.data()) != 0) pid_ = -1;
  }
  ChildKernel(const ChildKernel&) = delete;
  ChildKernel& operator=(const ChildKernel&) = delete;
  ~ChildKernel() { kill(); }

  bool started() const { return pid_ > 0; }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("request/reply: 1,000 concurrent requests to a kernel with KERNEL_CONCURRENCY=16 each get their own reply") {
  kernel::testing::KernelFixture fixture(replying_kernel("rr"), {{env_var::KERNEL_CONCURRENCY, "16"},
                                                                 {env_var::KAFKA_CONSUMER_MAX_WAIT, short_fetch_wait}});
  prometheus::Registry registry;
  const auto started = Clock::now();
  auto requester = requester_on(fixture.bootstrap_servers(), registry);
  MESSAGE("the requester started in " << std::chrono::duration<double, std::milli>(Clock::now() - started).count()
                                      << " ms (no group to join)");
  CHECK(requester.reply_topic() == "gateway.replies.test");
  // One request first: the round trips below are the steady state's, not the kernel's first fetch.
  const auto warm_up_sent = Clock::now();
  auto warm_up = requester.request("rr.in", kernel::Outgoing{}.json({{"n", -1}}), 30s);
  REQUIRE(answer_of(warm_up).n == -1);
  MESSAGE(
      "first request's round trip: " << std::chrono::duration<double, std::milli>(Clock::now() - warm_up_sent).count()
                                     << " ms");

  constexpr int count = 1000;
  std::vector<std::future<kernel::Message>> futures;
  futures.reserve(count);
  const auto sent = Clock::now();
  for (int n = 0; n < count; ++n) {
    futures.push_back(
        requester.request("rr.in", kernel::Outgoing{}.key("k" + std::to_string(n)).json({{"n", n}}), 30s));
  }
  const auto ms = round_trips(futures, sent, 60s);
  int own = 0;
  for (int n = 0; n < count; ++n) {
    const auto answer = answer_of(futures[n]);
    CHECK_MESSAGE(answer.n == n, "request " << n << ": " << answer.n.value_or(-1) << " " << answer.error);
    own += answer.n == n;
  }
  CHECK(own == count);
  MESSAGE("round trip of 1,000 requests sent at once, ms: p50 "
          << percentile(ms, 0.5) << ", p99 " << percentile(ms, 0.99) << ", max " << percentile(ms, 1.0));
  CHECK(requester.in_flight() == 0);
  CHECK(metric_value(registry, "kernel_requester_requests_total", "result", "replied") == 1 + count);
  CHECK(metric_value(registry, "kernel_requester_replies_dropped_total", "reason", "unknown") == 0);
}

TEST_CASE("requester: a timeout fails that request alone; its late reply and an unknown one are counted and dropped") {
  kernel::EmbeddedBroker broker;
  broker.create_topic("quiet.in", 1);
  prometheus::Registry registry;
  auto requester = requester_on(broker.bootstrap_servers(), registry);
  // No kernel reads quiet.in: the test answers by hand, from the requests it reads there.
  auto lost = requester.request("quiet.in", kernel::Outgoing{}.json({{"n", 1}}), 300ms);
  auto answered = requester.request("quiet.in", kernel::Outgoing{}.json({{"n", 2}}), 30s);
  const auto lost_answer = answer_of(lost);
  CHECK(lost_answer.timed_out);
  CHECK(lost_answer.error.find("no reply within 300 ms") != std::string::npos);
  CHECK(requester.in_flight() == 1);  // the other still waits

  const auto requests = kernel::detail::read_topic(broker.bootstrap_servers(), "quiet.in", 2, 10s);
  REQUIRE(requests.size() == 2);
  std::vector<kernel::jsonl::Record> replies;
  for (const auto& request : requests) {
    CHECK(request.headers.get("reply-to") == requester.reply_topic());
    kernel::jsonl::Record reply;
    reply.value = request.value;  // {"n": ...}: the reply names its request
    reply.headers.add("correlation-id", std::string(*request.headers.get("correlation-id")));
    replies.push_back(reply);
  }
  kernel::jsonl::Record unknown;
  unknown.value = R"({"n": -1})";
  unknown.headers.add("correlation-id", "no-such-request");
  replies.push_back(unknown);
  kernel::detail::produce_records(broker.bootstrap_servers(), requester.reply_topic(), replies);

  const auto answer = answer_of(answered);
  CHECK(answer.n == 2);
  CHECK(testwait::wait_until(
      [&] {
        return metric_value(registry, "kernel_requester_replies_dropped_total", "reason", "late") == 1 &&
               metric_value(registry, "kernel_requester_replies_dropped_total", "reason", "unknown") == 1;
      },
      10s));
  CHECK(metric_value(registry, "kernel_requester_requests_total", "result", "timed_out") == 1);
  CHECK(requester.in_flight() == 0);
}

namespace {

/// Answers the `count` requests read from `topic` by hand, each with its own "n" and correlation id.
void answer_by_hand(const std::string& servers, const std::string& topic, const std::string& reply_topic,
                    std::size_t count) {
  const auto requests = kernel::detail::read_topic(servers, topic, count, 10s);
  REQUIRE(requests.size() == count);
  std::vector<kernel::jsonl::Record> replies;
  for (const auto& request : requests) {
    kernel::jsonl::Record reply;
    reply.value = request.value;
    reply.headers.add("correlation-id", std::string(request.headers.get("correlation-id").value_or("")));
    replies.push_back(reply);
  }
  kernel::detail::produce_records(servers, reply_topic, replies);
}

}  // namespace

TEST_CASE("requester: a caller's own correlation-id and reply-to headers do not keep its reply from matching") {
  kernel::EmbeddedBroker broker;
  broker.create_topic("quiet.in", 1);
  prometheus::Registry registry;
  auto requester = requester_on(broker.bootstrap_servers(), registry);
  // A gateway forwarding its HTTP request id as a header: the requester's id must be the one read.
  auto forwarded = requester.request(
      "quiet.in",
      kernel::Outgoing{}.json({{"n", 5}}).header("correlation-id", "http-17").header("reply-to", "elsewhere"), 30s);
  const auto requests = kernel::detail::read_topic(broker.bootstrap_servers(), "quiet.in", 1, 10s);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].headers.get("correlation-id") != "http-17");
  CHECK(requests[0].headers.get("reply-to") == requester.reply_topic());
  answer_by_hand(broker.bootstrap_servers(), "quiet.in", requester.reply_topic(), 1);
  CHECK(answer_of(forwarded).n == 5);
}

TEST_CASE("requester: a timeout of milliseconds::max() waits for the reply (no overflow into the past)") {
  kernel::EmbeddedBroker broker;
  broker.create_topic("quiet.in", 1);
  prometheus::Registry registry;
  auto requester = requester_on(broker.bootstrap_servers(), registry);
  auto patient = requester.request("quiet.in", kernel::Outgoing{}.json({{"n", 9}}), std::chrono::milliseconds::max());
  answer_by_hand(broker.bootstrap_servers(), "quiet.in", requester.reply_topic(), 1);
  const auto answer = answer_of(patient);
  CHECK_MESSAGE(answer.n == 9, answer.error);
}

TEST_CASE("requester: past max_in_flight a request fails at once; closing fails the requests still waiting") {
  kernel::EmbeddedBroker broker;
  broker.create_topic("quiet.in", 1);
  prometheus::Registry registry;
  kernel::RequesterOptions options;
  options.max_in_flight = 2;
  std::future<kernel::Message> waiting;
  {
    auto requester = requester_on(broker.bootstrap_servers(), registry, options);
    waiting = requester.request("quiet.in", kernel::Outgoing{}.json({{"n", 1}}), 60s);
    auto second = requester.request("quiet.in", kernel::Outgoing{}.json({{"n", 2}}), 60s);
    auto third = requester.request("quiet.in", kernel::Outgoing{}.json({{"n", 3}}), 60s);
    REQUIRE(third.wait_for(0s) == std::future_status::ready);
    CHECK(answer_of(third).error.find("max_in_flight") != std::string::npos);
    CHECK(requester.in_flight() == 2);  // the first two still wait
    CHECK(second.wait_for(0s) == std::future_status::timeout);
  }
  // Closed: what still waited fails (transient), without waiting for its timeout.
  REQUIRE(waiting.wait_for(0s) == std::future_status::ready);
  CHECK_THROWS_AS(waiting.get(), kernel::TransientError);
}

TEST_CASE("requester: a request to a topic it may not write fails for good, at once") {
  kernel::EmbeddedBroker broker;
  prometheus::Registry registry;
  auto requester = requester_on(broker.bootstrap_servers(), registry);
  auto refused = requester.request("has space", kernel::Outgoing{}.json({{"n", 1}}), 60s);
  REQUIRE(refused.wait_for(5s) == std::future_status::ready);
  CHECK_THROWS_AS(refused.get(), kernel::PermanentError);
  CHECK(requester.in_flight() == 0);
}

TEST_CASE("request/reply: with no guard, a reply-to the reply rule refuses is dead-lettered (reply_to_not_allowed)") {
  kernel::testing::KernelFixture fixture(replying_kernel("guarded"));
  fixture.send({{"n", 1}}, "k1", {{"reply-to", "billing.ledger"}, {"correlation-id", "c-1"}});
  // Its own input: answered there, the reply would be read back as a request, a loop.
  fixture.send({{"n", 2}}, "k2", {{"reply-to", "guarded.in"}, {"correlation-id", "c-2"}});
  const auto letters = fixture.dead_letters(2, 30s);
  REQUIRE(letters.size() == 2);
  std::string messages;  // in either order: the two keys may be on different partitions
  for (const auto& letter : letters) {
    CHECK(letter.headers.get("dlq-failure-reason") == "reply_to_not_allowed");
    messages += std::string(letter.headers.get("dlq-error-message").value_or("")) + "\n";
  }
  CHECK(messages.find("billing.ledger refused: it matches no pattern of KERNEL_REPLY_TOPICS") != std::string::npos);
  CHECK(messages.find("guarded.in refused: it is one of this kernel's own topics") != std::string::npos);
}

TEST_CASE("request/reply: the kernel SIGKILLed mid-way: each request gets its own reply or times out") {
  kernel::EmbeddedBroker broker;
  broker.create_topic("it.in", 4);
  broker.create_topic("it.out", 1);
  broker.create_topic("it-kernel.dlq", 1);
  ChildKernel kernel(IT_KERNEL_BINARY,
                     {"KAFKA_BOOTSTRAP_SERVERS=" + broker.bootstrap_servers(), "KERNEL_CONCURRENCY=16",
                      "KERNEL_HTTP_PORT=off", "KERNEL_LOG_LEVEL=warn",
                      std::string("KAFKA_CONSUMER_MAX_WAIT=") + short_fetch_wait, "IT_HANDLE_DELAY_US=20000"});
  REQUIRE(kernel.started());
  prometheus::Registry registry;
  auto requester = requester_on(broker.bootstrap_servers(), registry);
  // The kernel is up once it answers (its group join takes a few seconds on the mock).
  auto first = requester.request("it.in", kernel::Outgoing{}.json({{"n", -1}, {"reply", true}}), 60s);
  REQUIRE(answer_of(first).n == -1);

  constexpr int count = 1000;
  std::vector<std::future<kernel::Message>> futures;
  for (int n = 0; n < count; ++n) {
    futures.push_back(requester.request(
        "it.in", kernel::Outgoing{}.key("k" + std::to_string(n)).json({{"n", n}, {"reply", true}}), 3s));
  }
  REQUIRE(testwait::wait_until(
      [&] { return metric_value(registry, "kernel_requester_requests_total", "result", "replied") >= 1 + 200; }, 30s));
  kernel.kill();

  int replied = 0, timed_out = 0, other = 0;
  for (int n = 0; n < count; ++n) {
    REQUIRE(futures[n].wait_for(30s) == std::future_status::ready);
    const auto answer = answer_of(futures[n]);
    if (answer.n) {
      CHECK_MESSAGE(*answer.n == n, "request " << n << " got the reply to " << *answer.n);
      ++replied;
    } else if (answer.timed_out) {
      ++timed_out;
    } else {
      ++other;
      MESSAGE("request " << n << ": " << answer.error);
    }
  }
  MESSAGE("killed mid-way: " << replied << " replied, " << timed_out << " timed out");
  CHECK(other == 0);
  CHECK(replied >= 200);
  CHECK(timed_out > 0);
  CHECK(replied + timed_out == count);
}

}  // namespace requester_test
