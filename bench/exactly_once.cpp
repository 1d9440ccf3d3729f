// bench-exactly-once: the cost of KERNEL_DELIVERY=exactly_once. Runs example-enricher with
// at_least_once and with exactly_once, alternating, against the same kernel-dev-broker in one
// run, and prints both rates, their peak memory and `ratio=<exactly_once / at_least_once>`.
//
// Each run reads the same input messages (its own group) and writes its own output topic; the
// rate is measured from the output topic's high watermarks from 5% of the outputs to all of
// them (the mock shows records before their transaction commits, so this is the produce rate;
// the last commit follows within KAFKA_CONSUMER_COMMIT_INTERVAL). The median of the rounds
// counts. The helpers are bench/throughput.cpp's.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include <librdkafka/rdkafka.h>

#include "broker/record_io.hpp"
#include "kernel/jsonl.hpp"
#include "support.hpp"

#include <nlohmann/json.hpp>

using Clock = std::chrono::steady_clock;

namespace {

using bench::Child;
using bench::spawn;

/// Stops a process with SIGTERM and waits for it; its peak resident memory in KiB.
long stop_and_peak_rss_kb(const Child& child) { return bench::stop(child).peak_rss_kb; }

long long output_count(rd_kafka_t* client, const std::string& topic, int partitions) {
  long long total = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(client, topic.c_str(), p, &low, &high, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      total += high;
    }
  }
  return total;
}

struct Result {
  double rate = 0;
  long rss_kb = 0;
};

Result measure(const std::string& binary, const std::string& name, const std::string& servers, int partitions,
               long long messages, int round, const std::string& delivery) {
  const auto output = name + ".out." + std::to_string(round);
  std::map<std::string, std::string> env{{"KAFKA_BOOTSTRAP_SERVERS", servers},
                                         {"KAFKA_TOPIC", "bench.in"},
                                         {"KAFKA_OUTPUT_TOPIC", output},
                                         {"KAFKA_DLQ_TOPIC", "bench.dlq"},
                                         {"KAFKA_CONSUMER_GROUP", name + "-" + std::to_string(round)},
                                         {"KERNEL_HTTP_PORT", "off"},
                                         {"KERNEL_LOG_LEVEL", "warn"},
                                         {"KERNEL_DELIVERY", delivery},
                                         {"KERNEL_INSTANCE_ID", "bench-" + std::to_string(round)}};
  auto watcher = kernel::detail::make_plain_client(RD_KAFKA_PRODUCER, servers);
  const auto child = spawn({binary}, env, false);
  const auto deadline = Clock::now() + std::chrono::seconds(180);
  long long first_count = 0;
  Clock::time_point first_seen{};
  long long count = 0;
  while (Clock::now() < deadline) {
    count = output_count(watcher.get(), output, partitions);
    // Start the clock past the first 5% so start-up (joining, first fetches) is not measured.
    if (count >= messages / 20 && first_count == 0) {
      first_count = count;
      first_seen = Clock::now();
    }
    if (count >= messages) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // sampling interval
  }
  const auto finished = Clock::now();
  Result result;
  result.rss_kb = stop_and_peak_rss_kb(child);
  if (count < messages) {
    std::cerr << name << ": only " << count << " of " << messages << " outputs within the deadline\n";
    return result;
  }
  const double seconds = std::chrono::duration<double>(finished - first_seen).count();
  result.rate = static_cast<double>(messages - first_count) / seconds;
  return result;
}

std::vector<kernel::jsonl::Record> make_inputs(long long messages) {
  std::vector<kernel::jsonl::Record> records;
  records.reserve(static_cast<std::size_t>(messages));
  static const char* items[] = {"book", "laptop", "pen", "desk", "chair", "lamp"};
  for (long long i = 0; i < messages; ++i) {
    kernel::jsonl::Record record;
    record.key = "customer-" + std::to_string(i % 5000);
    nlohmann::json order{{"order_id", i},
                         {"customer", *record.key},
                         {"item", items[i % 6]},
                         {"quantity", 1 + i % 4},
                         {"amount", static_cast<double>(i % 50000) / 100.0},
                         {"currency", "EUR"},
                         {"created_at", "2026-11-23T03:09:38.123Z"},
                         {"note", "standard delivery, leave at the door"}};
    record.value = order.dump();
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Throughput of a kernel with exactly-once delivery against at-least-once"};
  std::string broker_binary, kernel_binary;
  long long messages = 200000;
  int partitions = 16;
  int rounds = 3;
  app.add_option("--broker", broker_binary, "kernel-dev-broker")->required();
  app.add_option("--kernel", kernel_binary, "example-enricher")->required();
  app.add_option("--messages", messages, "Input messages");
  app.add_option("--partitions", partitions, "Partitions of every topic");
  app.add_option("--rounds", rounds, "Rounds (at_least_once, exactly_once alternating); the median of each counts");
  CLI11_PARSE(app, argc, argv);

  const std::vector<std::string> modes{"at_least_once", "exactly_once"};
  std::vector<std::string> broker_args{broker_binary, "--partitions", std::to_string(partitions), "--topic", "bench.in",
                                       "--topic",     "bench.dlq"};
  for (int round = 0; round < rounds; ++round) {
    for (const auto& mode : modes) {
      broker_args.push_back("--topic");
      broker_args.push_back(mode + ".out." + std::to_string(round));
    }
  }
  auto broker = spawn(broker_args, {}, true);
  char line[256] = {};
  if (!broker.stdout_pipe || !std::fgets(line, sizeof line, broker.stdout_pipe)) {
    std::cerr << "bench: the broker did not start\n";
    return 69;
  }
  std::string servers(line);
  servers = servers.substr(servers.find('=') + 1);
  servers.erase(servers.find_last_not_of("\r\n") + 1);
  {
    const auto inputs = make_inputs(messages);
    std::size_t bytes = 0;
    for (const auto& record : inputs) bytes += record.value.size();
    kernel::detail::produce_records(servers, "bench.in", inputs, std::chrono::seconds(120));
    std::printf("broker %s, %d partitions, %lld JSON messages of %zu bytes on average\n", servers.c_str(), partitions,
                messages, bytes / inputs.size());
  }
  std::map<std::string, std::vector<Result>> results;
  for (int round = 0; round < rounds; ++round) {
    for (const auto& mode : modes) {
      results[mode].push_back(measure(kernel_binary, mode, servers, partitions, messages, round, mode));
    }
    std::printf("round %d: at_least_once %.0f msg/s (peak RSS %.1f MB), exactly_once %.0f msg/s (peak RSS %.1f MB)\n",
                round + 1, results[modes[0]].back().rate, results[modes[0]].back().rss_kb / 1024.0,
                results[modes[1]].back().rate, results[modes[1]].back().rss_kb / 1024.0);
  }
  auto median = [](std::vector<Result> all) {
    std::sort(all.begin(), all.end(), [](const Result& a, const Result& b) { return a.rate < b.rate; });
    return all[all.size() / 2];
  };
  const auto alo = median(results[modes[0]]);
  const auto eos = median(results[modes[1]]);
  stop_and_peak_rss_kb(broker);
  std::printf(
      "at_least_once_msgs_per_s=%.0f exactly_once_msgs_per_s=%.0f at_least_once_peak_rss_mb=%.1f "
      "exactly_once_peak_rss_mb=%.1f\n",
      alo.rate, eos.rate, alo.rss_kb / 1024.0, eos.rss_kb / 1024.0);
  std::printf("ratio=%.3f\n", alo.rate > 0 ? eos.rate / alo.rate : 0.0);
  return alo.rate > 0 && eos.rate > 0 ? 0 : 1;
}
