// bench-producer: kernel::Producer against a hand-written librdkafka producer loop with the
// same client settings (a kernel's producer properties), on one in-process embedded broker,
// rounds interleaved. Each round sends --messages JSON values of --value-bytes to a fresh
// topic and ends when every record is acknowledged; the producer's futures are kept and read,
// as a gateway would. Last line: ratio=<producer msgs/s / raw msgs/s> (medians).
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>
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

/// The raw loop: produce every record (copying key and value), serving delivery reports as it
/// goes, then flush. Returns messages per second, or 0 on a failure.
double raw_round(const kernel::Config& config, const std::string& topic, const std::vector<std::string>& values) {
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
  const auto started = Clock::now();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto key = "k" + std::to_string(i);
    while (true) {
      const auto err =
          rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(values[i].data()), values[i].size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
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
  app.add_option("--messages", messages, "records per round")->check(CLI::PositiveNumber);
  app.add_option("--value-bytes", value_bytes, "bytes per value")->check(CLI::Range(2, 1000000));
  app.add_option("--rounds", rounds, "rounds (each: raw loop, then kernel::Producer)")->check(CLI::Range(1, 20));
  app.add_option("--partitions", partitions, "partitions of each round's topic")->check(CLI::Range(1, 256));
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
  std::vector<double> raw, kernel_rates;
  for (int round = 1; round <= rounds; ++round) {
    const auto raw_topic = "bench.raw." + std::to_string(round);
    const auto kernel_topic = "bench.producer." + std::to_string(round);
    broker.create_topic(raw_topic, partitions);
    broker.create_topic(kernel_topic, partitions);
    raw.push_back(raw_round(config, raw_topic, values));
    kernel_rates.push_back(producer_round(config, kernel_topic, values));
    std::printf("round %d: raw %.0f msgs/s, kernel::Producer %.0f msgs/s\n", round, raw.back(), kernel_rates.back());
  }
  const double raw_median = median(raw), kernel_median = median(kernel_rates);
  if (raw_median <= 0 || kernel_median <= 0) {
    std::cerr << "a round did not complete\n";
    return 1;
  }
  std::printf("raw_msgs_per_s=%.0f producer_msgs_per_s=%.0f messages=%lld value_bytes=%d partitions=%d rounds=%d\n",
              raw_median, kernel_median, messages, value_bytes, partitions, rounds);
  std::printf("ratio=%.3f\n", kernel_median / raw_median);
  return 0;
}
