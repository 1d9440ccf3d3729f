// bench-io-bound: an I/O-bound kernel (bench-io-kernel, 5 ms per message) run with
// KERNEL_CONCURRENCY=1 and with KERNEL_CONCURRENCY=64 (KERNEL_ORDERING=key) against the same
// kernel-dev-broker and the same input: 16 partitions, 1,000 keys. Prints both rates and peak
// memory; the last line is `ratio=<concurrent msgs/s / serial msgs/s>`.
//
// Each run is a separate process in its own group writing its own output topic. The rate is
// measured from the output topic's high watermarks, from 5% of its messages written to all of
// them (bench::watch_output()), so joining and the first fetches are not counted. The serial
// run handles --messages inputs (about 10 s at 5 ms each); the concurrent one handles
// --concurrent-messages, enough to measure it for a few seconds at the rate it should reach.
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

Result measure(const std::string& binary, int concurrency, const std::string& servers, int partitions,
               long long messages) {
  const auto name = "n" + std::to_string(concurrency);
  const auto output = "bench.out." + name;
  std::map<std::string, std::string> env{{"KAFKA_BOOTSTRAP_SERVERS", servers},
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
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"An I/O-bound kernel (5 ms per message) with KERNEL_CONCURRENCY=1 and =64"};
  std::string broker_binary, kernel_binary;
  long long serial_messages = 2000;
  long long concurrent_messages = 40000;
  int partitions = 16;
  int keys = 1000;
  int concurrency = 64;
  bool smoke = false;
  app.add_option("--broker", broker_binary, "kernel-dev-broker")->required();
  app.add_option("--kernel", kernel_binary, "bench-io-kernel")->required();
  app.add_option("--messages", serial_messages, "Inputs the KERNEL_CONCURRENCY=1 run handles");
  app.add_option("--concurrent-messages", concurrent_messages, "Inputs the concurrent run handles");
  app.add_option("--partitions", partitions, "Partitions of every topic");
  app.add_option("--keys", keys, "Distinct keys of the inputs");
  app.add_option("--concurrency", concurrency, "KERNEL_CONCURRENCY of the concurrent run");
  app.add_flag("--smoke", smoke, "A few hundred messages: checks the benchmark runs, measures nothing");
  CLI11_PARSE(app, argc, argv);
  if (smoke) {
    serial_messages = 100;  // half a second of 5 ms calls
    concurrent_messages = 400;
  }

  const auto serial_name = std::string("bench.out.n1");
  const auto concurrent_name = "bench.out.n" + std::to_string(concurrency);
  bench::Child broker;
  std::string servers;
  try {
    servers =
        bench::start_broker(broker_binary, partitions, {"bench.in", "bench.dlq", serial_name, concurrent_name}, broker);
  } catch (const std::exception& error) {
    std::cerr << "bench: " << error.what() << "\n";
    return 69;
  }

  const auto inputs = std::max(serial_messages, concurrent_messages);
  {
    std::vector<kernel::jsonl::Record> records;
    records.reserve(static_cast<std::size_t>(inputs));
    for (long long i = 0; i < inputs; ++i) {
      kernel::jsonl::Record record;
      record.key = "key-" + std::to_string(i % keys);
      record.value = R"({"id":)" + std::to_string(i) + R"(,"note":"an I/O-bound call per message"})";
      records.push_back(std::move(record));
    }
    kernel::detail::produce_records(servers, "bench.in", records, std::chrono::seconds(120));
  }
  std::printf("broker %s, %d partitions, %d keys, handler waits 5 ms per message\n", servers.c_str(), partitions, keys);

  const auto serial = measure(kernel_binary, 1, servers, partitions, serial_messages);
  std::printf("KERNEL_CONCURRENCY=1: %.0f msg/s over %lld messages (peak RSS %.1f MB)\n", serial.rate, serial_messages,
              serial.rss_kb / 1024.0);
  const auto concurrent = measure(kernel_binary, concurrency, servers, partitions, concurrent_messages);
  std::printf("KERNEL_CONCURRENCY=%d: %.0f msg/s over %lld messages (peak RSS %.1f MB)\n", concurrency, concurrent.rate,
              concurrent_messages, concurrent.rss_kb / 1024.0);
  bench::stop(broker);
  std::printf("serial_msgs_per_s=%.0f concurrent_msgs_per_s=%.0f\n", serial.rate, concurrent.rate);
  std::printf("ratio=%.1f\n", serial.rate > 0 ? concurrent.rate / serial.rate : 0.0);
  return serial.rate > 0 && concurrent.rate > 0 ? 0 : 1;
}
