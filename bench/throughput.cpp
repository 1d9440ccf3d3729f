// bench-throughput: runs example-enricher (on the runtime) and the hand-written raw loop
// against the same kernel-dev-broker, in one run, and prints their rates and peak memory.
// The raw loop of the headline (--raw) is the one on the kernel's allocator (jemalloc), so the
// ratio measures the runtime rather than the allocator; the same loop on the C library's malloc
// (--raw-glibc) is a second column. The last line is `ratio=<kernel msgs/s / raw msgs/s>`; the
// line before it also gives each one's CPU time per message (user + system, all threads, over
// the same window as the rate, from /proc/<pid>/stat, so start-up and shutdown are not
// counted), `cpu_ratio=<raw CPU per message / kernel CPU per message>`, which a busy machine
// disturbs far less than the rates, the broker's CPU per message while each ran, and the glibc
// loop's figures (`glibc_ratio=`). --kernel-with NAME=VALUE adds the kernel once more with that
// setting (to compare settings in one run).
//
// Each contender is a separate process reading the same 200,000 input messages (its own
// group) and writing its own output topic. The rate is measured from the output topic's
// high watermarks: from 5% of the outputs written to all of them, so group joining and the
// first fetches are not counted. Rounds interleave the contenders; the median of the rounds
// is reported.
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

/// One process measured in every round: its name prefixes its output topic and consumer group.
struct Contender {
  std::string name;
  std::string binary;
  std::map<std::string, std::string> settings;  ///< on top of the common environment
  std::vector<Result> rounds;
};

pid_t broker_pid = -1;

std::string output_of(const Contender& contender, int round) {
  return contender.name + ".out." + std::to_string(round);
}

bench::Child start(const Contender& contender, const std::string& servers, int round) {
  std::map<std::string, std::string> env{{"KAFKA_BOOTSTRAP_SERVERS", servers},
                                         {"KAFKA_TOPIC", "bench.in"},
                                         {"KAFKA_OUTPUT_TOPIC", output_of(contender, round)},
                                         {"KAFKA_DLQ_TOPIC", "bench.dlq"},
                                         {"KAFKA_CONSUMER_GROUP", contender.name + "-" + std::to_string(round)},
                                         {"KERNEL_HTTP_PORT", "off"},
                                         {"KERNEL_LOG_LEVEL", "warn"}};
  for (const auto& [name, value] : contender.settings) env[name] = value;
  return bench::spawn({contender.binary}, env, false);
}

Result finish(const Contender& contender, const bench::Child& child, const std::string& servers, int partitions,
              long long messages, int round) {
  const auto window =
      bench::watch_output(servers, output_of(contender, round), partitions, messages, child.pid, broker_pid);
  Result result;
  result.rss_kb = bench::stop(child).peak_rss_kb;
  if (!window.complete) {
    std::cerr << contender.name << ": only " << window.seen << " of " << messages << " outputs within the deadline\n";
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

/// The medians of a contender's rounds, each figure on its own (the rate's round gives the RSS).
Result median_of(std::vector<Result> rounds) {
  auto median = [&rounds](auto figure) {
    std::sort(rounds.begin(), rounds.end(), [&](const Result& a, const Result& b) { return figure(a) < figure(b); });
    return rounds[rounds.size() / 2];
  };
  Result result = median([](const Result& r) { return r.rate; });
  result.cpu_us_per_message = median([](const Result& r) { return r.cpu_us_per_message; }).cpu_us_per_message;
  result.broker_cpu_us_per_message =
      median([](const Result& r) { return r.broker_cpu_us_per_message; }).broker_cpu_us_per_message;
  return result;
}

double ratio(double numerator, double denominator) { return denominator > 0 ? numerator / denominator : 0.0; }

void print_round(int round, const Contender& contender, const Result& raw) {
  const auto& r = contender.rounds.back();
  std::printf("round %d %-16s %9.0f msg/s %6.2f us CPU/msg, broker %5.2f us CPU/msg, peak RSS %6.1f MB", round + 1,
              contender.name.c_str(), r.rate, r.cpu_us_per_message, r.broker_cpu_us_per_message, r.rss_kb / 1024.0);
  if (contender.name != "raw") {
    std::printf(", ratio %.3f, cpu ratio %.3f", ratio(r.rate, raw.rate),
                ratio(raw.cpu_us_per_message, r.cpu_us_per_message));
  }
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Throughput of a kernel on the runtime against a hand-written librdkafka loop"};
  std::string broker_binary, kernel_binary, raw_binary, glibc_binary;
  std::vector<std::string> variants;
  long long messages = 200000;
  int partitions = 16;
  int rounds = 3;
  std::size_t value_bytes = 0;
  bool smoke = false;
  app.add_option("--broker", broker_binary, "kernel-dev-broker")->required();
  app.add_option("--kernel", kernel_binary, "example-enricher")->required();
  app.add_option("--raw", raw_binary, "The raw loop of the headline ratio (bench-raw-loop-jemalloc)")->required();
  app.add_option("--raw-glibc", glibc_binary, "The raw loop on the C library's malloc (bench-raw-loop), optional");
  app.add_option("--kernel-with", variants, "NAME=VALUE: the kernel once more with this setting (repeatable)")
      ->check([](const std::string& value) {
        return value.find('=') == std::string::npos || value.front() == '=' ? "expected NAME=VALUE" : "";
      });
  app.add_option("--messages", messages, "Input messages")->check(CLI::Range(1LL, 5'000'000LL));
  app.add_option("--partitions", partitions, "Partitions of every topic")->check(CLI::Range(1, 1000));
  app.add_option("--rounds", rounds, "Rounds (the contenders interleaved); the median of each counts")
      ->check(CLI::Range(1, 100));
  app.add_option("--value-bytes", value_bytes, "Pad each order to about this many bytes (default: ~190)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1'000'000}));
  app.add_flag("--smoke", smoke,
               "A few hundred messages, one round, the contenders at once: checks the benchmark runs, measures "
               "nothing");
  CLI11_PARSE(app, argc, argv);
  if (smoke) {
    messages = 400;
    rounds = 1;
  }

  std::vector<Contender> contenders{{"raw", raw_binary, {}, {}}, {"kernel", kernel_binary, {}, {}}};
  if (!glibc_binary.empty()) contenders.push_back({"raw-glibc", glibc_binary, {}, {}});
  const std::size_t first_variant = contenders.size();
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const auto equals = variants[i].find('=');
    contenders.push_back({"kernel-" + std::to_string(i + 2),
                          kernel_binary,
                          {{variants[i].substr(0, equals), variants[i].substr(equals + 1)}},
                          {}});
  }
  std::vector<std::string> topics{"bench.in", "bench.dlq"};
  for (int round = 0; round < rounds; ++round) {
    for (const auto& contender : contenders) topics.push_back(output_of(contender, round));
  }
  bench::Child broker;
  const auto servers = bench::start_broker_or_report(broker_binary, partitions, topics, broker);
  if (servers.empty()) return 69;
  broker_pid = broker.pid;

  {
    const auto inputs = make_inputs(messages, value_bytes);
    std::size_t bytes = 0;
    for (const auto& record : inputs) bytes += record.value.size();
    kernel::detail::produce_records(servers, "bench.in", inputs, std::chrono::seconds(120));
    std::printf("broker %s, %d partitions, %lld JSON messages of %zu bytes on average\n", servers.c_str(), partitions,
                messages, bytes / inputs.size());
  }
  for (std::size_t i = first_variant; i < contenders.size(); ++i) {
    std::printf("%s: the kernel with %s\n", contenders[i].name.c_str(), variants[i - first_variant].c_str());
  }

  for (int round = 0; round < rounds; ++round) {
    if (smoke) {  // one group join for all of them instead of one each: the figures mean nothing anyway
      std::vector<bench::Child> children;
      for (const auto& contender : contenders) children.push_back(start(contender, servers, round));
      for (std::size_t i = 0; i < contenders.size(); ++i) {
        contenders[i].rounds.push_back(finish(contenders[i], children[i], servers, partitions, messages, round));
      }
    } else {
      for (auto& contender : contenders) {
        contender.rounds.push_back(
            finish(contender, start(contender, servers, round), servers, partitions, messages, round));
      }
    }
    for (const auto& contender : contenders) print_round(round, contender, contenders[0].rounds.back());
  }
  bench::stop(broker);

  std::vector<Result> medians;
  for (const auto& contender : contenders) medians.push_back(median_of(contender.rounds));
  const auto& raw = medians[0];
  const auto& kernel = medians[1];
  for (std::size_t i = first_variant; i < contenders.size(); ++i) {
    const auto& m = medians[i];
    std::printf("%s: %.0f msg/s, %.2f us CPU/msg, broker %.2f us CPU/msg, peak RSS %.1f MB, ratio %.3f\n",
                contenders[i].name.c_str(), m.rate, m.cpu_us_per_message, m.broker_cpu_us_per_message,
                m.rss_kb / 1024.0, ratio(m.rate, raw.rate));
  }
  std::printf(
      "raw_msgs_per_s=%.0f kernel_msgs_per_s=%.0f raw_peak_rss_mb=%.1f kernel_peak_rss_mb=%.1f "
      "rss_delta_mb=%.1f raw_cpu_us_per_msg=%.2f kernel_cpu_us_per_msg=%.2f cpu_ratio=%.3f "
      "raw_broker_cpu_us_per_msg=%.2f kernel_broker_cpu_us_per_msg=%.2f",
      raw.rate, kernel.rate, raw.rss_kb / 1024.0, kernel.rss_kb / 1024.0, (kernel.rss_kb - raw.rss_kb) / 1024.0,
      raw.cpu_us_per_message, kernel.cpu_us_per_message, ratio(raw.cpu_us_per_message, kernel.cpu_us_per_message),
      raw.broker_cpu_us_per_message, kernel.broker_cpu_us_per_message);
  if (!glibc_binary.empty()) {
    const auto& glibc = medians[2];
    std::printf(
        " glibc_msgs_per_s=%.0f glibc_peak_rss_mb=%.1f glibc_cpu_us_per_msg=%.2f glibc_ratio=%.3f "
        "glibc_cpu_ratio=%.3f",
        glibc.rate, glibc.rss_kb / 1024.0, glibc.cpu_us_per_message, ratio(kernel.rate, glibc.rate),
        ratio(glibc.cpu_us_per_message, kernel.cpu_us_per_message));
  }
  std::printf("\nratio=%.3f\n", ratio(kernel.rate, raw.rate));
  bool all_measured = true;
  for (const auto& m : medians) all_measured = all_measured && m.rate > 0;
  return all_measured ? 0 : 1;
}
