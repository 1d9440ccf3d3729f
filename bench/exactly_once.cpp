// bench-exactly-once: the cost of KERNEL_DELIVERY=exactly_once. Runs example-enricher with
// at_least_once and with exactly_once, alternating, against the same kernel-dev-broker in one
// run, and prints both rates, their peak memory and `ratio=<exactly_once / at_least_once>`.
//
// Each run reads the same input messages (its own group) and writes its own output topic; the
// rate is measured from the output topic's high watermarks from 5% of the outputs to all of
// them (bench::watch_output(); the mock shows records before their transaction commits, so
// this is the produce rate; the last commit follows within KAFKA_CONSUMER_COMMIT_INTERVAL).
// The median of the rounds counts.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "broker/record_io.hpp"
#include "kernel/jsonl.hpp"
#include "support.hpp"

namespace {

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
  const auto child = bench::spawn({binary}, env, false);
  const auto window = bench::watch_output(servers, output, partitions, messages, child.pid);
  Result result;
  result.rss_kb = bench::stop(child).peak_rss_kb;
  if (!window.complete) {
    std::cerr << name << ": only " << window.seen << " of " << messages << " outputs within the deadline\n";
    return result;
  }
  result.rate = window.rate();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Throughput of a kernel with exactly-once delivery against at-least-once"};
  std::string broker_binary, kernel_binary;
  long long messages = 200000;
  int partitions = 16;
  int rounds = 3;
  bool smoke = false;
  app.add_option("--broker", broker_binary, "kernel-dev-broker")->required();
  app.add_option("--kernel", kernel_binary, "example-enricher")->required();
  app.add_option("--messages", messages, "Input messages");
  app.add_option("--partitions", partitions, "Partitions of every topic");
  app.add_option("--rounds", rounds, "Rounds (at_least_once, exactly_once alternating); the median of each counts");
  app.add_flag("--smoke", smoke, "A few hundred messages, one round: checks the benchmark runs, measures nothing");
  CLI11_PARSE(app, argc, argv);
  if (smoke) {
    messages = 400;
    rounds = 1;
  }

  const std::vector<std::string> modes{"at_least_once", "exactly_once"};
  std::vector<std::string> topics{"bench.in", "bench.dlq"};
  for (int round = 0; round < rounds; ++round) {
    for (const auto& mode : modes) topics.push_back(mode + ".out." + std::to_string(round));
  }
  bench::Child broker;
  const auto servers = bench::start_broker_or_report(broker_binary, partitions, topics, broker);
  if (servers.empty()) return 69;
  {
    std::vector<kernel::jsonl::Record> inputs;
    inputs.reserve(static_cast<std::size_t>(messages));
    for (long long i = 0; i < messages; ++i) inputs.push_back(bench::make_order(i));
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
  bench::stop(broker);
  std::printf(
      "at_least_once_msgs_per_s=%.0f exactly_once_msgs_per_s=%.0f at_least_once_peak_rss_mb=%.1f "
      "exactly_once_peak_rss_mb=%.1f\n",
      alo.rate, eos.rate, alo.rss_kb / 1024.0, eos.rss_kb / 1024.0);
  std::printf("ratio=%.3f\n", alo.rate > 0 ? eos.rate / alo.rate : 0.0);
  return alo.rate > 0 && eos.rate > 0 ? 0 : 1;
}
