// bench-batch: the batch-sink pattern (bench-batch-kernel) against a hand-written batch loop
// (--raw: bench-raw-batch-loop-jemalloc, on the kernel's allocator; --raw-glibc, optional: the
// same loop on the C library's malloc, a second column), all decoding rows and writing them to
// an in-memory sink, at 200 B and 2 KB values by default, 16 partitions, against one
// kernel-dev-broker. The inputs of a case are
// written once; each contender reads them with its own group and prints, once it has written
// them all, its rows per second (from its first write to its last), the duration of a batch's
// call (decode + write: p50, p99, max), rows per call and CPU per row (bench/batch_sink.hpp).
// The last line is `ratio=<kernel rows/s / jemalloc raw rows/s>` of the first case.
#include <poll.h>

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

using Clock = std::chrono::steady_clock;

/// A contender's figures, from its one line of `name=value` pairs.
struct Figures {
  std::map<std::string, double> values;
  double operator[](const std::string& name) const {
    const auto found = values.find(name);
    return found == values.end() ? 0.0 : found->second;
  }
};

Figures parse_figures(const std::string& line) {
  Figures figures;
  std::size_t at = 0;
  while (at < line.size()) {
    const auto end = std::min(line.find(' ', at), line.size());
    const auto pair = line.substr(at, end - at);
    const auto equals = pair.find('=');
    if (equals != std::string::npos) {
      try {
        figures.values[pair.substr(0, equals)] = std::stod(pair.substr(equals + 1));
      } catch (const std::exception&) {
        // not a number: not one of the figures
      }
    }
    at = end + 1;
  }
  return figures;
}

/// Starts one contender on `topic`, told to report once it has written `rows` rows.
bench::Child start(const std::string& binary, const std::string& name, const std::string& servers,
                   const std::string& topic, long long rows) {
  const std::map<std::string, std::string> env{{"KAFKA_BOOTSTRAP_SERVERS", servers},
                                               {"KAFKA_TOPIC", topic},
                                               {"KAFKA_DLQ_TOPIC", "batch.dlq"},
                                               {"KAFKA_CONSUMER_GROUP", "bench-" + name + "-" + topic},
                                               {"KERNEL_HTTP_PORT", "off"},
                                               {"KERNEL_LOG_LEVEL", "warn"},
                                               {"BENCH_EXPECTED_ROWS", std::to_string(rows)}};
  return bench::spawn({binary}, env, true);
}

/// Waits for a started contender's report (until `deadline`) and stops it. Empty when it did not report.
Figures collect(const bench::Child& child, const std::string& name, long long rows, Clock::time_point deadline) {
  std::string line;
  pollfd readable{fileno(child.stdout_pipe), POLLIN, 0};
  while (line.empty() && Clock::now() < deadline) {
    if (::poll(&readable, 1, 100) <= 0) continue;
    char buffer[1024];
    if (!std::fgets(buffer, sizeof buffer, child.stdout_pipe)) break;  // it exited
    line = buffer;
  }
  bench::stop(child);
  std::fclose(child.stdout_pipe);
  if (line.empty()) std::cerr << name << ": did not report " << rows << " rows written\n";
  return parse_figures(line);
}

std::vector<kernel::jsonl::Record> rows_of(long long count, std::size_t value_bytes) {
  std::vector<kernel::jsonl::Record> records;
  records.reserve(static_cast<std::size_t>(count));
  for (long long i = 0; i < count; ++i) {
    kernel::jsonl::Record record;
    record.key = "account-" + std::to_string(i % 1000);
    std::string value = R"({"id":"order-)" + std::to_string(i) + R"(","account":")" + *record.key + R"(","amount":)" +
                        std::to_string(i % 50000) + R"(.25,"note":")";
    value.append(value_bytes > value.size() + 2 ? value_bytes - value.size() - 2 : 0, '.');
    value += "\"}";
    record.value = std::move(value);
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The batch-sink pattern against a hand-written batch loop, into an in-memory sink"};
  std::string broker_binary, kernel_binary, raw_binary, glibc_binary;
  std::vector<int> value_sizes{200, 2048};
  long long rows = 100000;
  int partitions = 16;
  bool smoke = false;
  app.add_option("--broker", broker_binary, "kernel-dev-broker")->required();
  app.add_option("--kernel", kernel_binary, "bench-batch-kernel")->required();
  app.add_option("--raw", raw_binary, "The raw batch loop of the ratio (bench-raw-batch-loop-jemalloc)")->required();
  app.add_option("--raw-glibc", glibc_binary, "The raw batch loop on the C library's malloc, optional");
  app.add_option("--value-bytes", value_sizes, "Value sizes, one case each")->check(CLI::Range(100, 100000));
  app.add_option("--rows", rows,
                 "Rows of a 200-byte case; larger values get fewer (the broker keeps about 5 MB a partition)")
      ->check(CLI::Range(100LL, 1'000'000LL));
  app.add_option("--partitions", partitions, "Partitions of the input topics")->check(CLI::Range(1, 1000));
  app.add_flag("--smoke", smoke, "A few hundred rows of one size: checks the benchmark runs, measures nothing");
  CLI11_PARSE(app, argc, argv);
  if (smoke) {
    rows = 400;
    value_sizes.resize(1);
  }

  std::vector<std::string> topics{"batch.dlq"};
  for (const int bytes : value_sizes) topics.push_back("batch.in." + std::to_string(bytes));
  bench::Child broker;
  const auto servers = bench::start_broker_or_report(broker_binary, partitions, topics, broker);
  if (servers.empty()) return 69;
  std::printf("broker %s, %d partitions; each contender decodes every row and writes each batch to memory\n",
              servers.c_str(), partitions);
  std::printf("%-11s %8s %-9s %10s %12s %12s %12s %9s %11s\n", "value_bytes", "rows", "loop", "rows_s", "call_p50_ms",
              "call_p99_ms", "call_max_ms", "rows/call", "cpu_us/row");
  std::fflush(stdout);
  bool all_ran = true;
  double first_ratio = 0;
  for (const int bytes : value_sizes) {
    // About 40 MB of values at most: 2.5 MB a partition on 16.
    const long long count = std::max(100LL, std::min(rows, 40'000'000LL / bytes));
    const auto topic = "batch.in." + std::to_string(bytes);
    try {
      kernel::detail::produce_records(servers, topic, rows_of(count, static_cast<std::size_t>(bytes)),
                                      std::chrono::seconds(120));
    } catch (const std::exception& error) {
      std::cerr << "bench: " << error.what() << "\n";
      all_ran = false;
      continue;
    }
    // One after the other, so none measures another's load; a smoke run starts them all at
    // once, to pay for one group join (about 3 s on kernel-dev-broker) instead of one each.
    std::vector<std::pair<std::string, std::string>> loops{{"raw", raw_binary}, {"kernel", kernel_binary}};
    if (!glibc_binary.empty()) loops.emplace_back("raw-glibc", glibc_binary);
    std::map<std::string, Figures> by_loop;
    std::map<std::string, bench::Child> started;
    if (smoke) {
      for (const auto& [loop, binary] : loops) started[loop] = start(binary, loop, servers, topic, count);
    }
    for (const auto& [loop, binary] : loops) {
      if (!smoke) started[loop] = start(binary, loop, servers, topic, count);
      const auto figures = collect(started[loop], loop, count, Clock::now() + std::chrono::seconds(120));
      std::printf("%-11d %8lld %-9s %10.0f %12.3f %12.3f %12.3f %9.1f %11.2f\n", bytes, count, loop.c_str(),
                  figures["rows_per_s"], figures["call_p50_ms"], figures["call_p99_ms"], figures["call_max_ms"],
                  figures["rows_per_call"], figures["cpu_us_per_row"]);
      std::fflush(stdout);
      all_ran = all_ran && figures["rows_per_s"] > 0;
      by_loop[loop] = figures;
    }
    const double ratio =
        by_loop["raw"]["rows_per_s"] > 0 ? by_loop["kernel"]["rows_per_s"] / by_loop["raw"]["rows_per_s"] : 0;
    if (first_ratio == 0) first_ratio = ratio;
    std::printf("%-11d ratio %.3f (kernel/raw rows per second)", bytes, ratio);
    if (!glibc_binary.empty()) {
      const double glibc = by_loop["raw-glibc"]["rows_per_s"];
      std::printf(", glibc ratio %.3f (kernel/raw-glibc)", glibc > 0 ? by_loop["kernel"]["rows_per_s"] / glibc : 0);
    }
    std::printf("\n");
  }
  bench::stop(broker);
  std::printf("ratio=%.3f\n", first_ratio);
  return all_ran ? 0 : 1;
}
