// Middleware and the endpoints in a real run: the kernel's consumer and producer middleware
// on the embedded broker, and the fixture serving health, readiness and metrics.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <httplib.h>

#include "kernel/middleware.hpp"
#include "kernel/testing.hpp"

namespace middleware_fixture_test {

using namespace std::chrono_literals;

TEST_CASE("consumer and producer middleware run around a live kernel and its metrics are served") {
  std::atomic<int> seen_by_middleware{0};
  kernel::KernelSpec spec;
  spec.name = "middleware-kernel";
  spec.input_topics = {"mw.in"};
  spec.output_topic = "mw.out";
  spec.middleware = {kernel::middleware::correlation(), kernel::middleware::logging(),
                     [&](const kernel::Message& m, kernel::Context& c, const kernel::Next& next) {
                       ++seen_by_middleware;
                       // Filter: messages marked "drop" are acknowledged without reaching the handler.
                       return m.header("drop") ? kernel::Outcome::success() : next(m, c);
                     }};
  spec.producer_middleware = {
      [](kernel::Outgoing& out, const kernel::Message& in, kernel::Context& ctx, const kernel::NextProduce& next) {
        out.header("tenant", std::string(in.header("tenant").value_or("none")));
        next(out, in, ctx);
      }};
  spec.handler = [](const kernel::Message& m, kernel::Context& ctx) {
    ctx.produce(kernel::Outgoing{}.key(std::string(m.key().value_or(""))).json(m.json()));
  };
  kernel::testing::KernelFixture fixture(spec, {{kernel::env_var::KERNEL_HTTP_PORT, "0"}});
  REQUIRE(fixture.http_port() > 0);
  httplib::Client client("127.0.0.1", fixture.http_port());
  client.set_read_timeout(5s);
  auto ready = client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);  // the fixture returns once the kernel joined

  fixture.send({{"n", 1}}, "a", {{"tenant", "acme"}});
  fixture.send({{"n", 2}}, "b", {{"drop", "yes"}});
  fixture.send({{"n", 3}}, "c");
  const auto outputs = fixture.outputs(2, 30s);
  REQUIRE(outputs.size() == 2);
  for (const auto& output : outputs) {
    const auto tenant =
        std::find_if(output.headers.begin(), output.headers.end(), [](const auto& h) { return h.first == "tenant"; });
    REQUIRE(tenant != output.headers.end());
    CHECK(tenant->second == (output.key == std::optional<std::string>("a") ? "acme" : "none"));
  }
  // The dropped message ("b") produces nothing, so the outputs may arrive before it is handled.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (seen_by_middleware < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);  // polling a condition with a deadline
  }
  CHECK(seen_by_middleware == 3);

  // Counters are live; the in-flight gauge is published a few times a second.
  std::string text;
  while (std::chrono::steady_clock::now() < deadline) {
    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    text = metrics->body;
    if (text.find("kernel_messages_produced_total{topic=\"mw.out\"} 2") != std::string::npos &&
        text.find("kernel_messages_handled_total{outcome=\"success\",topic=\"mw.in\"} 3") != std::string::npos &&
        text.find("kernel_in_flight_messages 0") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(50ms);  // polling a condition with a deadline
  }
  CHECK(text.find("kernel_messages_consumed_total{topic=\"mw.in\"} 3") != std::string::npos);
  CHECK(text.find("kernel_messages_handled_total{outcome=\"success\",topic=\"mw.in\"} 3") != std::string::npos);
  CHECK(text.find("kernel_messages_produced_total{topic=\"mw.out\"} 2") != std::string::npos);
  CHECK(text.find("kernel_in_flight_messages 0") != std::string::npos);
}

}  // namespace middleware_fixture_test
