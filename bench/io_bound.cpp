// bench-io-bound: an I/O-bound kernel (bench-io-kernel, 5 ms per message) run with
// KERNEL_CONCURRENCY=1, then with each --concurrency for each --keys (KERNEL_ORDERING=key),
// against the same kernel-dev-broker: 16 partitions by default. For each case it prints the
// rate, the speed-up over the serial run against the ideal (workers x 1 / 5 ms, and at most
// one call per key at a time under key ordering), and the kernel's CPU per message: the
// worker pool's own cost is what a concurrent run spends per message above the serial one.
// The last line is `ratio=<first case's msgs/s / serial msgs/s>`.
//
// Each run is a separate process in its own group writing its own output topic. The rate is
// measured from the output topic's high watermarks, from 5% of its messages written to all of
// them (bench::watch_output()), so joining and the first fetches are not counted. The serial
// run handles --messages inputs (about 10 s at 5 ms each); a concurrent one handles
// --concurrent-messages, by default 2.5 s of its ideal rate.
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

constexpr double call_ms = 5;  // bench-io-kernel's wait per message (its BENCH_IO_DELAY_MS default)

struct Result {
  double rate = 0;
  double cpu_us_per_message = 0;  // the kernel's user + system time over the measured window
  long rss_kb = 0;
};

std::string input_topic(int keys) { return "bench.in.k" + std::to_string(keys); }
std::string output_topic(int concurrency, int keys) {
  return "bench.out.n" + std::to_string(concurrency) + ".k" + std::to_string(keys);
}

Result measure(const std::string& binary, int concurrency, int keys, const std::string& servers, int partitions,
               long long messages) {
  const auto name = "n" + std::to_string(concurrency) + ".k" + std::to_string(keys);
  const auto output = output_topic(concurrency, keys);
  std::map<std::string, std::string> env{{"KAFKA_BOOTSTRAP_SERVERS", servers},
                                         {"KAFKA_TOPIC", input_topic(keys)},
                                         {"KAFKA_OUTPUT_TOPIC", output},
                                         {"KAFKA_DLQ_TOPIC", "bench.dlq"},
                                         {"KAFKA_CONSUMER_GROUP", "bench-io-" + name},
                                         {"KERNEL_CONCURRENCY", std::to_string(concurrency)},
                                         {"KERNEL_ORDERING", "key"},
                                         {"KERNEL_HTTP_PORT", "off"},
                                         {"KERNEL_LOG_LEVEL", "warn"}};
  const auto child = bench::spawn({binary}, env, false);
  const auto window = bench::watch_output(servers, output, partitions, messages, child.pid);
  Result result;
  result.rss_kb = bench::stop(child).peak_rss_kb;
  if (!window.complete) {
    std::cerr << name << ": only " << window.seen << " of " << messages << " outputs within the deadline\n";
    return result;
  }
  result.rate = window.rate();
  result.cpu_us_per_message = window.counted > 0 ? window.cpu_seconds * 1e6 / static_cast<double>(window.counted) : 0;
  return result;
}

void produce_inputs(const std::string& servers, int keys, long long count) {
  std::vector<kernel::jsonl::Record> records;
  records.reserve(static_cast<std::size_t>(count));
  for (long long i = 0; i < count; ++i) {
    kernel::jsonl::Record record;
    record.key = "key-" + std::to_string(i % keys);
    record.value = R"({"id":)" + std::to_string(i) + R"(,"note":"an I/O-bound call per message"})";
    records.push_back(std::move(record));
  }
  kernel::detail::produce_records(servers, input_topic(keys), records, std::chrono::seconds(120));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"An I/O-bound kernel (5 ms per message): KERNEL_CONCURRENCY=1 against worker pools"};
  std::string broker_binary, kernel_binary;
  long long serial_messages = 2000;
  long long concurrent_messages = 0;  // 0: 2.5 s of each case's ideal rate
  int partitions = 16;
  std::vector<int> keys_list{1000, 100};
  std::vector<int> concurrency_list{64, 256};
  bool smoke = false;
  app.add_option("--broker", broker_binary, "kernel-dev-broker")->required();
  app.add_option("--kernel", kernel_binary, "bench-io-kernel")->required();
  app.add_option("--messages", serial_messages, "Inputs the KERNEL_CONCURRENCY=1 run handles")
      ->check(CLI::Range(20LL, 1'000'000LL));
  app.add_option("--concurrent-messages", concurrent_messages,
                 "Inputs each concurrent run handles (default: 2.5 s of its ideal rate)")
      ->check(CLI::Range(0LL, 1'000'000LL));
  app.add_option("--partitions", partitions, "Partitions of every topic")->check(CLI::Range(1, 1000));
  app.add_option("--keys", keys_list, "Distinct keys of the inputs, one or more (each a case)")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--concurrency", concurrency_list, "KERNEL_CONCURRENCY of the concurrent runs, one or more")
      ->check(CLI::Range(2, 1024));
  app.add_flag("--smoke", smoke, "A few hundred messages: checks the benchmark runs, measures nothing");
  CLI11_PARSE(app, argc, argv);
  if (smoke) {
    serial_messages = 100;  // half a second of 5 ms calls
    concurrent_messages = 400;
    // One concurrent case (each costs a group join, about 3 s): the largest pool on the fewest
    // keys, the case with the most workers idle.
    keys_list = {*std::min_element(keys_list.begin(), keys_list.end())};
    concurrency_list = {*std::max_element(concurrency_list.begin(), concurrency_list.end())};
  }

  struct Case {
    int concurrency, keys;
    long long messages;
    double ideal;  // msgs/s: every worker busy, at most one call per key
  };
  std::vector<Case> cases;
  std::map<int, long long> inputs_per_keys{{keys_list.front(), serial_messages}};
  for (const int concurrency : concurrency_list) {
    for (const int keys : keys_list) {
      const double ideal = std::min(concurrency, keys) * 1000.0 / call_ms;
      const long long messages =
          concurrent_messages > 0 ? concurrent_messages : std::max(5000LL, static_cast<long long>(ideal * 2.5));
      cases.push_back({concurrency, keys, messages, ideal});
      inputs_per_keys[keys] = std::max(inputs_per_keys[keys], messages);
    }
  }
  std::vector<std::string> topics{"bench.dlq", output_topic(1, keys_list.front())};
  for (const auto& [keys, count] : inputs_per_keys) topics.push_back(input_topic(keys));
  for (const auto& c : cases) topics.push_back(output_topic(c.concurrency, c.keys));
  bench::Child broker;
  const auto servers = bench::start_broker_or_report(broker_binary, partitions, topics, broker);
  if (servers.empty()) return 69;
  try {
    for (const auto& [keys, count] : inputs_per_keys) produce_inputs(servers, keys, count);
  } catch (const std::exception& error) {
    std::cerr << "bench: " << error.what() << "\n";
    if (broker.pid > 0) bench::stop(broker);
    return 69;
  }
  std::printf("broker %s, %d partitions, handler waits %.0f ms per message\n", servers.c_str(), partitions, call_ms);
  std::fflush(stdout);

  const auto serial = measure(kernel_binary, 1, keys_list.front(), servers, partitions, serial_messages);
  std::printf(
      "KERNEL_CONCURRENCY=1: %.0f msg/s over %lld messages (ideal %.0f), %.1f us CPU per message, peak RSS "
      "%.1f MB\n",
      serial.rate, serial_messages, 1000.0 / call_ms, serial.cpu_us_per_message, serial.rss_kb / 1024.0);
  std::fflush(stdout);
  std::vector<Result> results;
  for (const auto& c : cases) {
    const auto result = measure(kernel_binary, c.concurrency, c.keys, servers, partitions, c.messages);
    const double ideal_speedup = c.ideal * call_ms / 1000.0;
    std::printf(
        "KERNEL_CONCURRENCY=%d, %d keys: %.0f msg/s over %lld messages, speed-up %.1f of an ideal %.0f "
        "(%.0f msg/s: %.0f%%), %.1f us CPU per message, peak RSS %.1f MB\n",
        c.concurrency, c.keys, result.rate, c.messages, serial.rate > 0 ? result.rate / serial.rate : 0.0,
        ideal_speedup, c.ideal, 100.0 * result.rate / c.ideal, result.cpu_us_per_message, result.rss_kb / 1024.0);
    std::fflush(stdout);
    results.push_back(result);
  }
  bench::stop(broker);
  std::printf("case workers=1 keys=%d msgs_per_s=%.0f ideal_msgs_per_s=%.0f cpu_us_per_msg=%.1f\n", keys_list.front(),
              serial.rate, 1000.0 / call_ms, serial.cpu_us_per_message);
  bool all_ran = serial.rate > 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    std::printf("case workers=%d keys=%d msgs_per_s=%.0f ideal_msgs_per_s=%.0f efficiency=%.2f cpu_us_per_msg=%.1f\n",
                cases[i].concurrency, cases[i].keys, results[i].rate, cases[i].ideal, results[i].rate / cases[i].ideal,
                results[i].cpu_us_per_message);
    all_ran = all_ran && results[i].rate > 0;
  }
  std::printf("ratio=%.1f\n", serial.rate > 0 ? results.front().rate / serial.rate : 0.0);
  return all_ran ? 0 : 1;
}
