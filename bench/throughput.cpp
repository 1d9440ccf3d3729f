// bench-throughput: runs example-enricher (on the runtime) and the hand-written raw loop
// against the same kernel-dev-broker, in one run, and prints their rates and peak memory.
// The last line is `ratio=<kernel msgs/s / raw msgs/s>`; the line before it also gives each
// one's CPU time per message (user + system, all threads, over the same window as the rate,
// from /proc/<pid>/stat, so start-up and shutdown are not counted) and
// `cpu_ratio=<raw CPU per message / kernel CPU per message>`, which a busy machine disturbs
// far less than the rates.
//
// Each contender is a separate process reading the same 200,000 input messages (its own
// group) and writing its own output topic. The rate is measured from the output topic's
// high watermarks: from 5% of the outputs written to all of them, so group joining and the
// first fetches are not counted. The median of the rounds is reported.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <librdkafka/rdkafka.h>

#include "broker/record_io.hpp"
#include "support.hpp"

namespace {

struct Result {
  double rate = 0;
  long rss_kb = 0;
  double cpu_us_per_message = 0;
  double broker_cpu_us_per_message = 0;  ///< the broker's CPU over the same window
};

pid_t broker_pid = -1;

Result measure(const std::string& binary, const std::string& name, const std::string& servers, int partitions,
               long long messages, int round) {
  const auto output = name + ".out." + std::to_string(round);
  std::map<std::string, std::string> env{{"KAFKA_BOOTSTRAP_SERVERS", servers},
                                         {"KAFKA_TOPIC", "bench.in"},
                                         {"KAFKA_OUTPUT_TOPIC", output},
                                         {"KAFKA_DLQ_TOPIC", "bench.dlq"},
                                         {"KAFKA_CONSUMER_GROUP", name + "-" + std::to_string(round)},
                                         {"KERNEL_HTTP_PORT", "off"},
                                         {"KERNEL_LOG_LEVEL", "warn"}};
  const auto child = bench::spawn({binary}, env, false);
  const auto window = bench::watch_output(servers, output, partitions, messages, child.pid, broker_pid);
  Result result;
  result.rss_kb = bench::stop(child).peak_rss_kb;
  if (!window.complete) {
    std::cerr << name << ": only " << window.seen << " of " << messages << " outputs within the deadline\n";
    return result;
  }
  result.rate = window.rate();
  if (window.counted > 0) {
    result.cpu_us_per_message = window.cpu_seconds * 1e6 / static_cast<double>(window.counted);
    result.broker_cpu_us_per_message = window.broker_cpu_seconds * 1e6 / static_cast<double>(window.counted);
  }
  return result;
}

std::vector<kernel::jsonl::Record> make_inputs(long long messages, std::size_t value_bytes) {
  std::vector<kernel::jsonl::Record> records;
  records.reserve(static_cast<std::size_t>(messages));
  for (long long i = 0; i < messages; ++i) records.push_back(bench::make_order(i, value_bytes));
  return records;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Throughput of a kernel on the runtime against a hand-written librdkafka loop"};
  std::string broker_binary, kernel_binary, raw_binary;
  long long messages = 200000;
  int partitions = 16;
  int rounds = 3;
  std::size_t value_bytes = 0;
  bool smoke = false;
  app.add_option("--broker", broker_binary, "kernel-dev-broker")->required();
  app.add_option("--kernel", kernel_binary, "example-enricher")->required();
  app.add_option("--raw", raw_binary, "the raw loop")->required();
  app.add_option("--messages", messages, "Input messages");
  app.add_option("--partitions", partitions, "Partitions of every topic");
  app.add_option("--rounds", rounds, "Rounds (raw, kernel alternating); the median of each counts");
  app.add_option("--value-bytes", value_bytes, "Pad each order to about this many bytes (default: ~190)");
  app.add_flag("--smoke", smoke, "A few hundred messages, one round: checks the benchmark runs, measures nothing");
  CLI11_PARSE(app, argc, argv);
  if (smoke) {
    messages = 400;
    rounds = 1;
  }

  std::vector<std::string> topics{"bench.in", "bench.dlq"};
  for (int round = 0; round < rounds; ++round) {
    for (const char* name : {"raw", "kernel"}) topics.push_back(std::string(name) + ".out." + std::to_string(round));
  }
  bench::Child broker;
  std::string servers;
  try {
    servers = bench::start_broker(broker_binary, partitions, topics, broker);
    broker_pid = broker.pid;
  } catch (const std::exception& error) {
    std::cerr << "bench: " << error.what() << "\n";
    return 69;
  }

  {
    const auto inputs = make_inputs(messages, value_bytes);
    std::size_t bytes = 0;
    for (const auto& record : inputs) bytes += record.value.size();
    kernel::detail::produce_records(servers, "bench.in", inputs, std::chrono::seconds(120));
    std::printf("broker %s, %d partitions, %lld JSON messages of %zu bytes on average\n", servers.c_str(), partitions,
                messages, bytes / inputs.size());
  }

  std::vector<Result> raws, kernels;
  for (int round = 0; round < rounds; ++round) {
    raws.push_back(measure(raw_binary, "raw", servers, partitions, messages, round));
    kernels.push_back(measure(kernel_binary, "kernel", servers, partitions, messages, round));
    const auto& raw = raws.back();
    const auto& kernel = kernels.back();
    std::printf(
        "round %d: raw loop %.0f msg/s, %.2f us CPU/msg (peak RSS %.1f MB); kernel %.0f msg/s, %.2f us CPU/msg "
        "(peak RSS %.1f MB); ratio %.3f, cpu ratio %.3f; broker CPU/msg raw %.2f us, kernel %.2f us\n",
        round + 1, raw.rate, raw.cpu_us_per_message, raw.rss_kb / 1024.0, kernel.rate, kernel.cpu_us_per_message,
        kernel.rss_kb / 1024.0, raw.rate > 0 ? kernel.rate / raw.rate : 0.0,
        kernel.cpu_us_per_message > 0 ? raw.cpu_us_per_message / kernel.cpu_us_per_message : 0.0,
        raw.broker_cpu_us_per_message, kernel.broker_cpu_us_per_message);
  }
  auto median = [](std::vector<Result> results) {
    std::sort(results.begin(), results.end(), [](const Result& a, const Result& b) { return a.rate < b.rate; });
    return results[results.size() / 2];
  };
  auto median_cpu = [](std::vector<Result> results) {
    std::sort(results.begin(), results.end(),
              [](const Result& a, const Result& b) { return a.cpu_us_per_message < b.cpu_us_per_message; });
    return results[results.size() / 2].cpu_us_per_message;
  };
  const auto best_raw = median(raws);
  const auto best_kernel = median(kernels);
  const double raw_cpu = median_cpu(raws), kernel_cpu = median_cpu(kernels);
  bench::stop(broker);
  const double rss_delta_mb = (best_kernel.rss_kb - best_raw.rss_kb) / 1024.0;
  std::printf(
      "raw_msgs_per_s=%.0f kernel_msgs_per_s=%.0f raw_peak_rss_mb=%.1f kernel_peak_rss_mb=%.1f "
      "rss_delta_mb=%.1f raw_cpu_us_per_msg=%.2f kernel_cpu_us_per_msg=%.2f cpu_ratio=%.3f\n",
      best_raw.rate, best_kernel.rate, best_raw.rss_kb / 1024.0, best_kernel.rss_kb / 1024.0, rss_delta_mb, raw_cpu,
      kernel_cpu, kernel_cpu > 0 ? raw_cpu / kernel_cpu : 0.0);
  std::printf("ratio=%.3f\n", best_raw.rate > 0 ? best_kernel.rate / best_raw.rate : 0.0);
  return best_raw.rate > 0 && best_kernel.rate > 0 ? 0 : 1;
}
