// bench-producer: kernel::Producer against a hand-written librdkafka producer loop with the
// same client settings (a kernel's producer properties), on one in-process embedded broker,
// rounds interleaved. Each round sends --messages JSON values of --value-bytes to a fresh
// topic and ends when every record is acknowledged; the producer's futures are kept and read,
// as a gateway would; another takes a delivery callback per record instead. The raw loop runs
// twice: bare, and stamping the producer's five standard headers by hand (the same bytes on
// the wire, which the in-process broker also pays for). Last lines: same_work_ratio= (against
// the loop with the headers), callback_ratio=, then ratio=<producer msgs/s / bare raw msgs/s>.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <future>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <librdkafka/rdkafka.h>

#include "kernel/embedded_broker.hpp"
#include "kernel/env_vars.hpp"
#include "kernel/producer.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<long long> raw_failed{0};

void on_raw_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  if (message->err) raw_failed.fetch_add(1, std::memory_order_relaxed);
}

/// The standard headers a kernel::Producer stamps (event-id, correlation-id, source, timestamp,
/// content-type), written by hand as bench/raw_loop.cpp does: the same bytes on the wire.
rd_kafka_headers_t* hand_stamped_headers(std::mt19937_64& random) {
  auto* headers = rd_kafka_headers_new(8);
  char event_id[37];
  const auto hi = random(), lo = random();
  std::snprintf(event_id, sizeof event_id, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xfff),
                static_cast<unsigned>(0x8000 | ((lo >> 48) & 0x3fff)),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  rd_kafka_header_add(headers, "event-id", -1, event_id, 36);
  rd_kafka_header_add(headers, "correlation-id", -1, event_id, 36);
  rd_kafka_header_add(headers, "source", -1, "bench-producer", 14);
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  std::tm tm{};
  gmtime_r(&now.tv_sec, &tm);
  char stamp[32];
  const int n = std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
  rd_kafka_header_add(headers, "timestamp", -1, stamp, n);
  rd_kafka_header_add(headers, "content-type", -1, "application/json", 16);
  return headers;
}

/// The raw loop: produce every record (copying key and value; with `stamp`, the standard
/// headers by hand), serving delivery reports as it goes, then flush. Returns messages per
/// second, or 0 on a failure.
double raw_round(const kernel::Config& config, const std::string& topic, const std::vector<std::string>& values,
                 bool stamp) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::array<char, 512> error{};
  for (const auto& property : config.producer_properties()) {
    if (rd_kafka_conf_set(conf, property.name.c_str(), property.value.c_str(), error.data(), error.size()) !=
        RD_KAFKA_CONF_OK) {
      std::cerr << "raw: " << property.name << ": " << error.data() << '\n';
      rd_kafka_conf_destroy(conf);
      return 0;
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, &on_raw_delivery);
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size());
  if (!producer) {
    std::cerr << "raw: " << error.data() << '\n';
    return 0;
  }
  raw_failed = 0;
  std::mt19937_64 random{std::random_device{}()};
  const auto started = Clock::now();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto key = "k" + std::to_string(i);
    rd_kafka_headers_t* headers = stamp ? hand_stamped_headers(random) : nullptr;
    while (true) {
      const auto err =
          rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(values[i].data()), values[i].size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;  // the record owns the headers now
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        if (headers) rd_kafka_headers_destroy(headers);
        std::cerr << "raw: " << rd_kafka_err2str(err) << '\n';
        rd_kafka_destroy(producer);
        return 0;
      }
      rd_kafka_poll(producer, 1);
    }
    if (i % 1000 == 0) rd_kafka_poll(producer, 0);
  }
  rd_kafka_flush(producer, 60000);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  const bool complete = rd_kafka_outq_len(producer) == 0 && raw_failed == 0;
  rd_kafka_destroy(producer);
  return complete ? static_cast<double>(values.size()) / seconds : 0;
}

/// kernel::Producer: send() each record, keep the futures, flush, read every result.
double producer_round(const kernel::Config& config, const std::string& topic, const std::vector<std::string>& values) {
  kernel::Producer producer(config);
  std::vector<std::future<kernel::DeliveryResult>> results;
  results.reserve(values.size());
  const auto started = Clock::now();
  for (std::size_t i = 0; i < values.size(); ++i) {
    results.push_back(producer.send(topic, kernel::Outgoing{}.key("k" + std::to_string(i)).json_text(values[i])));
  }
  producer.flush(std::chrono::seconds(60));
  long long failed = 0;
  for (auto& result : results) failed += result.get().ok() ? 0 : 1;
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  if (failed > 0) std::cerr << "producer: " << failed << " not delivered\n";
  return failed == 0 ? static_cast<double>(values.size()) / seconds : 0;
}

/// kernel::Producer with a delivery callback per record instead of a future.
double callback_round(const kernel::Config& config, const std::string& topic, const std::vector<std::string>& values) {
  kernel::Producer producer(config);
  std::atomic<long long> failed{0};
  const auto started = Clock::now();
  for (std::size_t i = 0; i < values.size(); ++i) {
    producer.send(topic, kernel::Outgoing{}.key("k" + std::to_string(i)).json_text(values[i]),
                  [&failed](const kernel::DeliveryResult& result) {
                    if (!result.ok()) failed.fetch_add(1, std::memory_order_relaxed);
                  });
  }
  const bool flushed = producer.flush(std::chrono::seconds(60));
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  if (failed > 0 || !flushed) std::cerr << "producer (callbacks): " << failed << " not delivered\n";
  return failed == 0 && flushed ? static_cast<double>(values.size()) / seconds : 0;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kernel::Producer against a hand-written librdkafka producer loop (same settings)"};
  long long messages = 200'000;
  int value_bytes = 200;
  int rounds = 3;
  int partitions = 16;
  bool smoke = false;
  std::string only;
  app.add_option("--messages", messages, "records per round")->check(CLI::PositiveNumber);
  app.add_option("--value-bytes", value_bytes, "bytes per value")->check(CLI::Range(2, 1000000));
  app.add_option("--rounds", rounds, "rounds (each: raw loop, then kernel::Producer)")->check(CLI::Range(1, 20));
  app.add_option("--partitions", partitions, "partitions of each round's topic")->check(CLI::Range(1, 256));
  app.add_option("--only", only, "run one contender alone (for a profiler: callgrind counts instructions per process)")
      ->check(CLI::IsMember({"raw", "raw-headers", "producer", "callback"}));
  app.add_flag("--smoke", smoke, "a quick run that checks the benchmark works (figures mean nothing)");
  CLI11_PARSE(app, argc, argv);
  if (smoke) {
    messages = 5'000;
    rounds = 1;
  }
  kernel::EmbeddedBroker broker;
  kernel::KernelDefaults defaults{"bench-producer", {}, std::nullopt};
  defaults.consumes = false;
  const auto config =
      kernel::Config::load(defaults, {{kernel::env_var::KAFKA_BOOTSTRAP_SERVERS, broker.bootstrap_servers()},
                                      {kernel::env_var::KERNEL_LOG_LEVEL, "warn"}});
  // A JSON value of about value_bytes: {"id":N,"pad":"xxx..."}
  std::vector<std::string> values;
  values.reserve(static_cast<std::size_t>(messages));
  for (long long i = 0; i < messages; ++i) {
    std::string value = "{\"id\":" + std::to_string(i) + ",\"pad\":\"";
    value.append(static_cast<std::size_t>(std::max(0, value_bytes - static_cast<int>(value.size()) - 2)), 'x');
    value += "\"}";
    values.push_back(std::move(value));
  }
  std::vector<double> raw, raw_headers, kernel_rates, callback_rates;
  for (int round = 1; round <= rounds; ++round) {
    const auto raw_topic = "bench.raw." + std::to_string(round);
    const auto raw_headers_topic = "bench.raw-headers." + std::to_string(round);
    const auto kernel_topic = "bench.producer." + std::to_string(round);
    const auto callback_topic = "bench.callback." + std::to_string(round);
    broker.create_topic(raw_topic, partitions);
    broker.create_topic(raw_headers_topic, partitions);
    broker.create_topic(kernel_topic, partitions);
    broker.create_topic(callback_topic, partitions);
    raw.push_back(only.empty() || only == "raw" ? raw_round(config, raw_topic, values, false) : 1);
    raw_headers.push_back(only.empty() || only == "raw-headers" ? raw_round(config, raw_headers_topic, values, true)
                                                                : 1);
    kernel_rates.push_back(only.empty() || only == "producer" ? producer_round(config, kernel_topic, values) : 1);
    callback_rates.push_back(only.empty() || only == "callback" ? callback_round(config, callback_topic, values) : 1);
    std::printf(
        "round %d: raw %.0f msgs/s, raw with the headers %.0f msgs/s, kernel::Producer %.0f msgs/s (futures), %.0f "
        "msgs/s (callbacks)\n",
        round, raw.back(), raw_headers.back(), kernel_rates.back(), callback_rates.back());
  }
  const double raw_median = median(raw), raw_headers_median = median(raw_headers), kernel_median = median(kernel_rates),
               callback_median = median(callback_rates);
  if (raw_median <= 0 || raw_headers_median <= 0 || kernel_median <= 0 || callback_median <= 0) {
    std::cerr << "a round did not complete\n";
    return 1;
  }
  std::printf(
      "raw_msgs_per_s=%.0f raw_headers_msgs_per_s=%.0f producer_msgs_per_s=%.0f callback_msgs_per_s=%.0f "
      "messages=%lld value_bytes=%d partitions=%d rounds=%d\n",
      raw_median, raw_headers_median, kernel_median, callback_median, messages, value_bytes, partitions, rounds);
  // Against the loop doing the same work (the same headers on the wire), then against the bare loop.
  std::printf("same_work_ratio=%.3f callback_same_work_ratio=%.3f\n", kernel_median / raw_headers_median,
              callback_median / raw_headers_median);
  std::printf("callback_ratio=%.3f\n", callback_median / raw_median);
  std::printf("ratio=%.3f\n", kernel_median / raw_median);
  return 0;
}
