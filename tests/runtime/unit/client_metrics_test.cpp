// librdkafka's statistics as kernel_client_* metrics: reports captured from librdkafka 2.0.2
// (a consumer and a producer on a mock cluster, tests/data/), and malformed ones.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include <prometheus/text_serializer.h>

#include "ops/client_metrics.hpp"

namespace client_metrics_test {

using kernel::detail::parse_client_statistics;

namespace {

std::string captured(const char* name) {
  std::ifstream file(std::string(KERNEL_TEST_DATA_DIR) + "/" + name);
  REQUIRE(file);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string exposition(const kernel::detail::ClientMetrics& metrics) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, metrics.Collect());
  return out.str();
}

}  // namespace

TEST_CASE("a consumer's report gives its brokers' round trips and errors and its fetch queues") {
  const auto statistics = parse_client_statistics(captured("librdkafka_statistics_consumer.json"));
  REQUIRE(statistics);
  CHECK(statistics->client == "consumer");
  REQUIRE(statistics->brokers.size() == 1);  // the coordinator's logical broker repeats it
  CHECK(statistics->brokers[0].name == "127.0.0.1:46093/1");
  CHECK(statistics->brokers[0].rtt_p50_seconds == doctest::Approx(41e-6));
  CHECK(statistics->brokers[0].rtt_p99_seconds == doctest::Approx(85e-6));
  CHECK(statistics->brokers[0].transmit_errors == 0u);
  CHECK(statistics->partitions.size() == 4);  // partitions 0-3 being fetched; not -1
  CHECK_FALSE(statistics->producer_queue_messages);
}

TEST_CASE("a producer's report gives its queue depth and no fetch queues") {
  const auto statistics = parse_client_statistics(captured("librdkafka_statistics_producer.json"));
  REQUIRE(statistics);
  CHECK(statistics->client == "producer");
  CHECK(statistics->producer_queue_messages == 0u);
  CHECK(statistics->partitions.empty());
  CHECK(statistics->brokers.size() == 1);
}

TEST_CASE("what is not a report is refused; a field missing or of another type is skipped") {
  CHECK_FALSE(parse_client_statistics(""));
  CHECK_FALSE(parse_client_statistics("{"));
  CHECK_FALSE(parse_client_statistics("[]"));
  CHECK_FALSE(parse_client_statistics(R"({"type": "admin"})"));
  CHECK_FALSE(parse_client_statistics(std::string(kernel::detail::max_statistics_bytes + 1, ' ')));
  const auto odd = parse_client_statistics(R"({"type": "consumer",
      "brokers": {"b": {"name": "b:1/1", "nodeid": 1, "txerrs": -4, "rtt": {"cnt": 2, "p50": "fast", "p99": 9e99}},
                  "c": {"name": "c\n", "nodeid": 2}, "d": [], "e": {"name": "e:1/3", "nodeid": "3"}},
      "topics": {"t": {"partitions": {"x": {"fetchq_cnt": 1}, "0": {"fetchq_cnt": -1}, "1": {"fetch_state": "active"},
                                      "2": {"fetch_state": "active", "fetchq_cnt": 7}}},
                 "u": {"partitions": []}, "v": 3}})");
  REQUIRE(odd);
  REQUIRE(odd->brokers.size() == 1);
  CHECK(odd->brokers[0].name == "b:1/1");
  CHECK_FALSE(odd->brokers[0].transmit_errors);
  CHECK_FALSE(odd->brokers[0].rtt_p50_seconds);
  CHECK_FALSE(odd->brokers[0].rtt_p99_seconds);
  REQUIRE(odd->partitions.size() == 1);
  CHECK(odd->partitions[0].partition == 2);
  CHECK(odd->partitions[0].fetch_queue_messages == 7);
}

TEST_CASE("the partitions of a report are bounded") {
  std::string many = R"({"type": "consumer", "topics": {"t": {"partitions": {)";
  for (int n = 0; n < 10'500; ++n) many += (n ? "," : "") + ("\"" + std::to_string(n) + "\": {\"fetchq_cnt\": 1}");
  many += "}}}}";
  const auto statistics = parse_client_statistics(many);
  REQUIRE(statistics);
  CHECK(statistics->partitions.size() == kernel::detail::max_reported_partitions);
}

TEST_CASE("each client's latest report is served as kernel_client_* metrics") {
  kernel::detail::ClientMetrics metrics;
  CHECK(exposition(metrics).empty());
  CHECK(metrics.update(captured("librdkafka_statistics_consumer.json")));
  CHECK(metrics.update(captured("librdkafka_statistics_producer.json")));
  CHECK_FALSE(metrics.update("not json"));
  const auto text = exposition(metrics);
  CHECK(
      text.find("kernel_client_broker_rtt_seconds{client=\"consumer\",broker=\"127.0.0.1:46093/1\",quantile=\"0.99\"} "
                "8.5") != std::string::npos);
  CHECK(text.find("# TYPE kernel_client_transmit_errors_total counter") != std::string::npos);
  CHECK(text.find("kernel_client_partition_fetch_queue_messages{topic=\"t1\",partition=\"3\"} 0") != std::string::npos);
  CHECK(text.find("kernel_client_producer_queue_messages 0") != std::string::npos);
  // A newer report replaces its client's: a partition no longer fetched goes away.
  CHECK(metrics.update(R"({"type": "consumer", "topics": {}})"));
  CHECK(exposition(metrics).find("kernel_client_partition_fetch_queue_messages") == std::string::npos);
}

}  // namespace client_metrics_test
