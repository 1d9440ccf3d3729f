// bench-throughput: runs example-enricher (on the runtime) and the hand-written raw loop
// against the same kernel-dev-broker, in one run, and prints their rates and peak memory.
// The last line is `ratio=<kernel msgs/s / raw msgs/s>`.
//
// Each contender is a separate process reading the same 200,000 input messages (its own
// group) and writing its own output topic. The rate is measured from the output topic's
// high watermarks: from 5% of the outputs written to all of them, so group joining and the
// first fetches are not counted. The median of the rounds is reported.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
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

#include <nlohmann/json.hpp>

using Clock = std::chrono::steady_clock;

namespace {

struct Child {
  pid_t pid = -1;
  FILE* stdout_pipe = nullptr;
};

Child spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, bool capture_stdout) {
  int fds[2] = {-1, -1};
  if (capture_stdout && pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (capture_stdout) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
    }
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  Child child{pid, nullptr};
  if (capture_stdout) {
    close(fds[1]);
    child.stdout_pipe = fdopen(fds[0], "r");
  }
  return child;
}

/// Peak resident memory (VmHWM) of a running process, in KiB.
long peak_rss_kb(pid_t pid) {
  FILE* status = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (!status) return 0;
  char line[256];
  long kb = 0;
  while (std::fgets(line, sizeof line, status)) {
    if (std::sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
  }
  std::fclose(status);
  return kb;
}

long stop_and_peak_rss_kb(const Child& child) {
  const long kb = peak_rss_kb(child.pid);
  kill(child.pid, SIGTERM);
  int status = 0;
  waitpid(child.pid, &status, 0);
  return kb;
}

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
               long long messages, int round) {
  const auto output = name + ".out." + std::to_string(round);
  std::map<std::string, std::string> env{{"KAFKA_BOOTSTRAP_SERVERS", servers},
                                         {"KAFKA_TOPIC", "bench.in"},
                                         {"KAFKA_OUTPUT_TOPIC", output},
                                         {"KAFKA_DLQ_TOPIC", "bench.dlq"},
                                         {"KAFKA_CONSUMER_GROUP", name + "-" + std::to_string(round)},
                                         {"KERNEL_HTTP_PORT", "off"},
                                         {"KERNEL_LOG_LEVEL", "warn"}};
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
  CLI::App app{"Throughput of a kernel on the runtime against a hand-written librdkafka loop"};
  std::string broker_binary, kernel_binary, raw_binary;
  long long messages = 200000;
  int partitions = 16;
  int rounds = 3;
  app.add_option("--broker", broker_binary, "kernel-dev-broker")->required();
  app.add_option("--kernel", kernel_binary, "example-enricher")->required();
  app.add_option("--raw", raw_binary, "the raw loop")->required();
  app.add_option("--messages", messages, "Input messages");
  app.add_option("--partitions", partitions, "Partitions of every topic");
  app.add_option("--rounds", rounds, "Rounds (raw, kernel alternating); the median of each counts");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> broker_args{broker_binary, "--partitions", std::to_string(partitions), "--topic", "bench.in",
                                       "--topic",     "bench.dlq"};
  for (int round = 0; round < rounds; ++round) {
    for (const char* name : {"raw", "kernel"}) {
      broker_args.push_back("--topic");
      broker_args.push_back(std::string(name) + ".out." + std::to_string(round));
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

  std::vector<Result> raws, kernels;
  for (int round = 0; round < rounds; ++round) {
    raws.push_back(measure(raw_binary, "raw", servers, partitions, messages, round));
    kernels.push_back(measure(kernel_binary, "kernel", servers, partitions, messages, round));
    std::printf("round %d: raw loop %.0f msg/s (peak RSS %.1f MB), kernel %.0f msg/s (peak RSS %.1f MB)\n", round + 1,
                raws.back().rate, raws.back().rss_kb / 1024.0, kernels.back().rate, kernels.back().rss_kb / 1024.0);
  }
  auto median = [](std::vector<Result> results) {
    std::sort(results.begin(), results.end(), [](const Result& a, const Result& b) { return a.rate < b.rate; });
    return results[results.size() / 2];
  };
  const auto best_raw = median(raws);
  const auto best_kernel = median(kernels);
  stop_and_peak_rss_kb(broker);
  const double rss_delta_mb = (best_kernel.rss_kb - best_raw.rss_kb) / 1024.0;
  std::printf(
      "raw_msgs_per_s=%.0f kernel_msgs_per_s=%.0f raw_peak_rss_mb=%.1f kernel_peak_rss_mb=%.1f "
      "rss_delta_mb=%.1f\n",
      best_raw.rate, best_kernel.rate, best_raw.rss_kb / 1024.0, best_kernel.rss_kb / 1024.0, rss_delta_mb);
  std::printf("ratio=%.3f\n", best_raw.rate > 0 ? best_kernel.rate / best_raw.rate : 0.0);
  return best_raw.rate > 0 && best_kernel.rate > 0 ? 0 : 1;
}
