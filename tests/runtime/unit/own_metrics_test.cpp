// A kernel's own metrics (kernel/metrics.hpp): declaration, names and shapes, the series bound
// and its `other` series, thread safety, and how they read on /metrics.
#include <doctest/doctest.h>

#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/text_serializer.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "core/own_metrics.hpp"
#include "http/operations.hpp"
#include "kernel/kernel.hpp"
#include "kernel/testing.hpp"

namespace own_metrics_test {

namespace {

struct Logged {
  std::ostringstream lines;
  std::shared_ptr<spdlog::logger> logger =
      std::make_shared<spdlog::logger>("own-metrics-test", std::make_shared<spdlog::sinks::ostream_sink_st>(lines));
};

std::string exposition(kernel::Metrics& metrics) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, metrics.runtime_state().registry->Collect());
  return out.str();
}

std::size_t series_of(kernel::Metrics& metrics, std::string_view name) {
  return metrics.runtime_state().families.at(std::string(name))->series_count();
}

}  // namespace

TEST_CASE("a counter is named <kernel>_<name> and shows with its HELP, TYPE and labels") {
  kernel::Metrics metrics("orders-enricher", 1000, nullptr);
  auto& orders = metrics.counter("orders_total", "Orders seen, by country", {"country"});
  orders.inc({"NL"});
  orders.add({"NL"}, 2);
  orders.inc({"DE"});
  CHECK(orders.value({"NL"}) == 3);
  CHECK(orders.value({"FR"}) == 0);
  const auto text = exposition(metrics);
  CHECK(text.find("# HELP orders_enricher_orders_total Orders seen, by country\n") != std::string::npos);
  CHECK(text.find("# TYPE orders_enricher_orders_total counter\n") != std::string::npos);
  CHECK(text.find("orders_enricher_orders_total{country=\"NL\"} 3") != std::string::npos);
}

TEST_CASE("gauges set and add, histograms observe into the buckets declared") {
  kernel::Metrics metrics("k", 1000, nullptr);
  auto& depth = metrics.gauge("queue_depth", "Items waiting");
  depth.set(5);
  depth.add({}, -2);
  CHECK(depth.value() == 3);
  auto& sizes = metrics.histogram("order_amount", "Order amounts", {"currency"}, {10, 100, 1000});
  sizes.observe({"EUR"}, 42);
  sizes.observe({"EUR"}, 4200);
  CHECK(sizes.count({"EUR"}) == 2);
  const auto text = exposition(metrics);
  CHECK(text.find("k_order_amount_bucket{currency=\"EUR\",le=\"100\"} 1") != std::string::npos);
  CHECK(text.find("k_order_amount_bucket{currency=\"EUR\",le=\"+Inf\"} 2") != std::string::npos);
  CHECK(text.find("# TYPE k_queue_depth gauge") != std::string::npos);
}

TEST_CASE("declaring a name again with the same shape returns the same metric") {
  kernel::Metrics metrics("k", 1000, nullptr);
  auto& first = metrics.counter("orders_total", "Orders", {"country"});
  auto& again = metrics.counter("orders_total", "Orders", {"country"});
  CHECK(&first == &again);
  auto& histogram = metrics.histogram("latency_seconds", "Latency", {}, {0.1, 1});
  CHECK(&histogram == &metrics.histogram("latency_seconds", "Latency", {}, {0.1, 1}));
}

TEST_CASE("declaring a name again with another shape throws, naming both") {
  kernel::Metrics metrics("k", 1000, nullptr);
  metrics.counter("orders_total", "Orders", {"country"});
  CHECK_THROWS_WITH_AS(metrics.counter("orders_total", "Orders", {"region"}),
                       "metric orders_total is already declared as a counter with labels {country}, not as a counter "
                       "with labels {region}",
                       std::invalid_argument);
  CHECK_THROWS_AS(metrics.gauge("orders_total", "Orders", {"country"}), std::invalid_argument);
  metrics.histogram("latency_seconds", "Latency", {}, {0.1, 1});
  CHECK_THROWS_AS(metrics.histogram("latency_seconds", "Latency", {}, {0.1, 2}), std::invalid_argument);
}

TEST_CASE("names Prometheus would refuse are refused at declaration") {
  kernel::Metrics metrics("k", 1000, nullptr);
  CHECK_THROWS_WITH_AS(metrics.counter("orders-total", "x"),
                       "metric name \"orders-total\" is not a valid Prometheus name: letters, digits and _, not "
                       "starting with a digit",
                       std::invalid_argument);
  CHECK_THROWS_AS(metrics.counter("", "x"), std::invalid_argument);
  CHECK_THROWS_AS(metrics.counter("9lives", "x"), std::invalid_argument);
  CHECK_THROWS_AS(metrics.counter("a:b", "x"), std::invalid_argument);
  CHECK_THROWS_AS(metrics.counter("ok_total", "x", {"bad-label"}), std::invalid_argument);
  CHECK_THROWS_AS(metrics.counter("ok_total", "x", {"__reserved"}), std::invalid_argument);
  CHECK_THROWS_AS(metrics.counter("ok_total", "x", {"a", "a"}), std::invalid_argument);
  CHECK_THROWS_AS(metrics.histogram("h", "x", {"le"}, {1}), std::invalid_argument);
  CHECK_THROWS_AS(metrics.histogram("h", "x", {}, {}), std::invalid_argument);
  CHECK_THROWS_AS(metrics.histogram("h", "x", {}, {2, 1}), std::invalid_argument);
  kernel::Metrics runtime_named("kernel", 1000, nullptr);
  CHECK_THROWS_AS(runtime_named.counter("messages_consumed_total", "x"), std::invalid_argument);
}

TEST_CASE("the kernel's name becomes a valid prefix") {
  CHECK(kernel::detail::metric_prefix("orders-enricher") == "orders_enricher_");
  CHECK(kernel::detail::metric_prefix("9a") == "_9a_");
  CHECK(kernel::Metrics("a.b", 1, nullptr).prefix() == "a_b_");
}

TEST_CASE("a call with the wrong number of label values or a negative amount throws") {
  kernel::Metrics metrics("k", 1000, nullptr);
  auto& orders = metrics.counter("orders_total", "Orders", {"country", "channel"});
  CHECK_THROWS_WITH_AS(orders.inc({"NL"}), "metric k_orders_total has 2 label(s), given 1 value(s)",
                       std::invalid_argument);
  CHECK_THROWS_AS(orders.add({"NL", "web"}, -1), std::invalid_argument);
}

TEST_CASE("past the series bound new label values go to other, with one warning per metric") {
  Logged logged;
  kernel::Metrics metrics("k", 10, logged.logger);
  auto& orders = metrics.counter("orders_total", "Orders", {"country"});
  auto& refunds = metrics.counter("refunds_total", "Refunds", {"country"});
  for (int n = 0; n < 100; ++n) {
    orders.inc({"c" + std::to_string(n)});
  }
  CHECK(series_of(metrics, "orders_total") == 10);
  CHECK(orders.value({"c0"}) == 1);
  CHECK(orders.value({"c8"}) == 1);
  CHECK(orders.value({"c9"}) == 0);
  CHECK(orders.value({"other"}) == 91);
  orders.inc({"c3"});  // a value seen before the bound keeps its series
  CHECK(orders.value({"c3"}) == 2);
  for (int n = 0; n < 20; ++n) refunds.inc({"r" + std::to_string(n)});
  const auto log = logged.lines.str();
  CHECK(log.find("metric k_orders_total reached 10 series") != std::string::npos);
  CHECK(log.find("metric k_refunds_total reached 10 series") != std::string::npos);
  CHECK(log.find("k_orders_total reached") == log.rfind("k_orders_total reached"));
}

TEST_CASE("a label value too long or not UTF-8 is counted in other") {
  kernel::Metrics metrics("k", 1000, nullptr);
  auto& orders = metrics.counter("orders_total", "Orders", {"country"});
  orders.inc({std::string(129, 'x')});
  orders.inc({"\xff\xfe"});
  orders.inc({std::string(128, 'y')});
  CHECK(orders.value({"other"}) == 2);
  CHECK(orders.value({std::string(128, 'y')}) == 1);
}

TEST_CASE("counting from many threads loses nothing and keeps the bound") {
  kernel::Metrics metrics("k", 50, nullptr);
  auto& orders = metrics.counter("orders_total", "Orders", {"country"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&orders, t] {
      for (int n = 0; n < 5000; ++n) orders.inc({"c" + std::to_string((n * 7 + t) % 200)});
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(series_of(metrics, "orders_total") == 50);
  double total = 0;
  for (int n = 0; n < 200; ++n) total += orders.value({"c" + std::to_string(n)});
  CHECK(total + orders.value({"other"}) == 20000);
}

TEST_CASE("a test's context declares the spec's metrics, and its copies share them") {
  kernel::Counter* orders = nullptr;
  kernel::KernelSpec spec{.name = "orders-enricher", .input_topics = {"orders"}};
  spec.metrics = [&orders](kernel::Metrics& metrics) {
    orders = &metrics.counter("orders_total", "Orders seen, by country", {"country"});
  };
  spec.handler = [](const kernel::Message& message, kernel::Context& context) {
    context.metrics()
        .counter("orders_total", "Orders seen, by country", {"country"})
        .inc({message.json()["country"].get<std::string>()});
  };
  kernel::testing::TestContext context(spec);
  REQUIRE(orders != nullptr);
  kernel::testing::call(spec.handler, kernel::testing::make_message({{"country", "NL"}}), context);
  kernel::Context copy(context);
  kernel::testing::call(spec.handler, kernel::testing::make_message({{"country", "NL"}}), copy);
  CHECK(orders->value({"NL"}) == 2);
}

TEST_CASE("/metrics serves the kernel's own metrics after the kernel_ ones, and the process's") {
  kernel::Settings settings;
  settings.kernel_name = "orders-enricher";
  settings.http_port = 0;
  settings.http_address = "127.0.0.1";
  auto operations = kernel::detail::Operations::start_if_enabled(settings, "1.0.0", spdlog::default_logger());
  REQUIRE(operations);
  auto own = operations->metrics().own_metrics();
  REQUIRE(own);
  own->counter("orders_total", "Orders", {"country"}).inc({"NL"});
  const auto text = operations->metrics().serialize();
  const auto own_at = text.find("orders_enricher_orders_total{country=\"NL\"} 1");
  CHECK(own_at != std::string::npos);
  CHECK(text.find("kernel_info") < own_at);
  CHECK(text.find("# TYPE process_resident_memory_bytes gauge") != std::string::npos);
  CHECK(text.find("# TYPE process_cpu_seconds_total counter") != std::string::npos);
  CHECK(text.find("process_open_fds ") != std::string::npos);
  CHECK(text.find("process_start_time_seconds ") != std::string::npos);
}

}  // namespace own_metrics_test
