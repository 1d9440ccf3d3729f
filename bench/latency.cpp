// bench-latency: end-to-end latency of example-enricher (and, as a reference, the raw loop)
// at a steady offered rate, against one kernel-dev-broker, in one run.
//
// Latency of a message: from its input's CreateTime (set here when the input is produced, kept
// to the microsecond) to the moment its output reaches a consumer in this program
// (read_committed, fetch.wait.max.ms=1). Inputs are offered at --rate per second on a fixed
// schedule (bench/paced_producer.hpp) for --seconds, after a warm-up that waits for the
// contender to answer. Each contender reads its own input topic and writes its own output.
//
// What the method has to work around (docs/benchmarks.md, "bench/latency"): kernel-dev-broker
// (librdkafka's mock cluster) answers a fetch with at most one produced batch per partition,
// and holds a fetch that finds no data for the whole fetch.wait.max.ms. So the inputs go out in
// batches of --input-linger ms (a batch per partition per millisecond would cap every contender
// at one fetch round trip per message or two), on few partitions, and every contender runs with
// KAFKA_CONSUMER_MAX_WAIT=--max-wait instead of the default 500ms.
//
// Each contender's report says whether the run measured the contender or the machine: the
// rate produced against --rate, how late the producer was against its schedule, the output
// rate while the inputs were offered, and the CPU of each process and of the rest of the machine.
// Last lines: one `<name> p50_ms=... p99_ms=... p99_9_ms=... ... lost=N` per contender measured.
#include <sys/resource.h>

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
#include "latency_stats.hpp"
#include "paced_producer.hpp"
#include "support.hpp"

using Clock = std::chrono::steady_clock;

namespace {

using bench::Percentiles;
using bench::Stalls;

struct Options {
  std::string servers;
  pid_t broker_pid = -1;
  int partitions = 4;
  int rate = 20000;
  double seconds = 10;
  int warmup = 200;
  int input_linger_ms = 5;
  std::string max_wait = "5ms";
  double stall_ms = 100;              // an output later than this is part of a stall
  std::vector<std::string> settings;  // NAME=VALUE for every contender
};

struct Measurement {
  bool ran = false;
  std::string skipped;  // why not, when it did not run
  long long offered = 0, received = 0;
  double produced_rate = 0;  // inputs per second the producer managed
  double output_rate = 0;    // outputs per second that arrived while the inputs were offered
  double drain_ms = 0;       // the last output's arrival after the last input's production
  Percentiles latency;       // input CreateTime -> output seen
  Percentiles acked;         // input CreateTime -> input acknowledged: the load generator's share
  Percentiles late;          // produce call after its schedule
  Stalls stalls;             // outputs later than --stall-ms
  double window_s = 0;       // first paced input to last output
  double contender_cpu = 0, broker_cpu = 0, bench_cpu = 0, other_cpu = 0, producer_thread_cpu = 0;  // seconds
  bench::Usage usage;
  /// Empty when the run measured the contender; else what says it measured the machine.
  std::string not_kept_up(int rate) const {
    if (produced_rate < 0.97 * rate) return "the producer fell behind --rate";
    if (late.p99 >= 5.0) return "the producer ran late (p99 5 ms or more behind its schedule)";
    if (output_rate < 0.95 * produced_rate) return "the outputs fell behind the inputs";
    return {};
  }
  bool kept_up(int rate) const { return not_kept_up(rate).empty(); }
};

/// Reads `topic` from the beginning and records, per output key lat-<seq>, when it arrived.
class OutputReader {
 public:
  OutputReader(const Options& options, const std::string& topic) {
    consumer_ = kernel::detail::make_plain_client(RD_KAFKA_CONSUMER, options.servers,
                                                  {{"group.id", "bench-latency-reader"},
                                                   {"enable.auto.commit", "false"},
                                                   {"isolation.level", "read_committed"},
                                                   {"fetch.wait.max.ms", "1"}});
    kernel::detail::PartitionListPtr all(rd_kafka_topic_partition_list_new(options.partitions));
    for (int p = 0; p < options.partitions; ++p) {
      rd_kafka_topic_partition_list_add(all.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(consumer_.get(), all.get());
  }

  /// Reads for up to `timeout_ms`; fills arrived_us for every lat-<seq> key seen.
  void read(std::vector<long long>& arrived_us, long long& count, int timeout_ms) {
    kernel::detail::MessagePtr message(rd_kafka_consumer_poll(consumer_.get(), timeout_ms));
    if (!message || message->err || !message->key || message->key_len < 5 || message->key_len > 24) return;
    const auto at = bench::wall_us();
    const auto* key = static_cast<const char*>(message->key);
    std::size_t seq = 0;
    for (std::size_t i = 4; i < message->key_len; ++i) {
      if (key[i] < '0' || key[i] > '9') return;  // not one of ours
      seq = seq * 10 + static_cast<std::size_t>(key[i] - '0');
    }
    if (seq < arrived_us.size() && arrived_us[seq] == 0) {
      arrived_us[seq] = at;
      ++count;
    }
  }

  ~OutputReader() {
    if (consumer_) rd_kafka_consumer_close(consumer_.get());
  }

 private:
  kernel::detail::HandlePtr consumer_;
};

/// Runs `binary --print-config` with `env`: empty when it accepts the configuration, else why not.
std::string refusal(const std::string& binary, const std::map<std::string, std::string>& env,
                    const std::string& required_setting) {
  std::string command = "env";
  for (const auto& [name, value] : env) command += " " + name + "='" + value + "'";
  command += " '" + binary + "' --print-config 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return "could not run " + binary;
  std::string output;
  char buffer[4096];
  while (const auto n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code != 0) {
    auto line = output.substr(0, output.find('\n'));
    return "the kernel refused the configuration (exit " + std::to_string(code) + "): " + line;
  }
  if (!required_setting.empty() && output.find(required_setting) == std::string::npos) {
    return "this kernel does not know " + required_setting;
  }
  return {};
}

double self_cpu_seconds() {
  rusage used{};
  getrusage(RUSAGE_SELF, &used);
  return bench::seconds_of(used.ru_utime) + bench::seconds_of(used.ru_stime);
}

Measurement measure(const Options& options, const std::string& name, const std::string& binary, bool is_kernel,
                    const std::map<std::string, std::string>& extra_env, const std::string& required_setting) {
  Measurement result;
  const auto input = "lat.in." + name, output = "lat.out." + name;
  std::map<std::string, std::string> env{{"KAFKA_BOOTSTRAP_SERVERS", options.servers},
                                         {"KAFKA_TOPIC", input},
                                         {"KAFKA_OUTPUT_TOPIC", output},
                                         {"KAFKA_DLQ_TOPIC", "lat.dlq"},
                                         {"KAFKA_CONSUMER_GROUP", "lat-" + name},
                                         {"KERNEL_HTTP_PORT", "off"},
                                         {"KERNEL_LOG_LEVEL", "warn"},
                                         {"KAFKA_CONSUMER_MAX_WAIT", options.max_wait}};
  for (const auto& setting : options.settings) {
    const auto equals = setting.find('=');
    env[setting.substr(0, equals)] = setting.substr(equals + 1);
  }
  env.insert(extra_env.begin(), extra_env.end());
  // The kernel's --print-config says whether it takes the settings; the raw loop has no such
  // option (it would run), and a setting it does not take makes it exit at the warm-up.
  if (is_kernel && (!extra_env.empty() || !options.settings.empty())) {
    result.skipped = refusal(binary, env, required_setting);
    if (!result.skipped.empty()) return result;
  }
  const long long measured = static_cast<long long>(options.rate * options.seconds);
  const long long total = options.warmup + measured;
  const auto size = static_cast<std::size_t>(total);
  bench::Inputs inputs;
  inputs.created_us.assign(size, 0);
  inputs.acked_us.assign(size, 0);
  inputs.late_us.assign(size, 0);
  inputs.keys.reserve(size);
  inputs.values.reserve(size);
  for (long long i = 0; i < total; ++i) {
    inputs.keys.push_back("lat-" + std::to_string(i));
    inputs.values.push_back(bench::make_order(i).value);
  }
  std::vector<long long> arrived_us(size, 0);
  const auto child = bench::spawn({binary}, env, false);
  OutputReader reader(options, output);
  bench::PacedProducer producer(options.servers, input, options.input_linger_ms, inputs);
  long long received = 0;

  // Warm-up: the contender has joined its group and answers (inputs produced before it
  // joined wait for it, so this also absorbs start-up).
  producer.run(0, options.warmup, 0);
  const auto warmup_deadline = Clock::now() + std::chrono::seconds(60);
  while (received < options.warmup && Clock::now() < warmup_deadline) {
    reader.read(arrived_us, received, 50);
    int status = 0;
    if (waitpid(child.pid, &status, WNOHANG) == child.pid) {
      result.skipped = "it exited during the warm-up (status " + std::to_string(status) + ")";
      return result;
    }
  }
  if (received < options.warmup) {
    result.skipped = "no answer within 60 s of starting";
    result.usage = bench::stop(child);
    return result;
  }

  const double contender_before = bench::cpu_seconds_so_far(child.pid);
  const double broker_before = bench::cpu_seconds_so_far(options.broker_pid);
  const double self_before = self_cpu_seconds(), machine_before = bench::machine_busy_seconds();
  const auto started = Clock::now();
  bench::PacedRun paced;
  std::thread producing([&] { paced = producer.run(options.warmup, measured, options.rate); });
  const auto deadline = started + std::chrono::duration<double>(options.seconds + 20);
  while (received < total && Clock::now() < deadline) reader.read(arrived_us, received, 10);
  producing.join();
  result.window_s = std::chrono::duration<double>(Clock::now() - started).count();
  result.contender_cpu = bench::cpu_seconds_so_far(child.pid) - contender_before;
  result.broker_cpu = bench::cpu_seconds_so_far(options.broker_pid) - broker_before;
  result.bench_cpu = self_cpu_seconds() - self_before;
  result.other_cpu =
      bench::machine_busy_seconds() - machine_before - result.contender_cpu - result.broker_cpu - result.bench_cpu;
  result.producer_thread_cpu = paced.cpu_seconds;
  result.usage = bench::stop(child);

  const auto first = static_cast<std::size_t>(options.warmup);
  const long long offer_end_us = inputs.created_us.back();
  long long last_arrival_us = 0, arrived_while_offered = 0;
  std::vector<double> latencies, acked, late;
  latencies.reserve(size - first);
  acked.reserve(size - first);
  late.reserve(size - first);
  for (auto seq = first; seq < size; ++seq) {
    late.push_back(static_cast<double>(inputs.late_us[seq]) / 1000.0);
    if (inputs.acked_us[seq] > 0)
      acked.push_back(static_cast<double>(inputs.acked_us[seq] - inputs.created_us[seq]) / 1000.0);
    if (arrived_us[seq] == 0) continue;
    latencies.push_back(static_cast<double>(arrived_us[seq] - inputs.created_us[seq]) / 1000.0);
    last_arrival_us = std::max(last_arrival_us, arrived_us[seq]);
    if (arrived_us[seq] <= offer_end_us) ++arrived_while_offered;
  }
  result.ran = true;
  result.offered = measured;
  result.received = static_cast<long long>(latencies.size());
  // From the first produce call to the last: measured - 1 intervals of 1 / rate on schedule.
  result.produced_rate = paced.seconds > 0 ? static_cast<double>(measured - 1) / paced.seconds : 0;
  result.output_rate = paced.seconds > 0 ? static_cast<double>(arrived_while_offered) / paced.seconds : 0;
  result.drain_ms = last_arrival_us > 0 ? static_cast<double>(last_arrival_us - offer_end_us) / 1000.0 : 0;
  result.stalls = bench::stalls_of(inputs.created_us, arrived_us, options.stall_ms, first);
  result.latency = bench::percentiles_of(std::move(latencies));
  result.acked = bench::percentiles_of(std::move(acked));
  result.late = bench::percentiles_of(std::move(late));
  return result;
}

void report(const std::string& name, const Measurement& m, const Options& options) {
  const int rate = options.rate;
  const double window = m.window_s > 0 ? m.window_s : 1;
  std::printf(
      "%s: offered %d msg/s, produced %.0f msg/s (late against the schedule: p99 %.1f ms, max %.1f ms); "
      "%lld of %lld outputs, %.0f msg/s while offered, the last %.0f ms after the last input\n",
      name.c_str(), rate, m.produced_rate, m.late.p99, m.late.max, m.received, m.offered, m.output_rate, m.drain_ms);
  std::printf(
      "%s: latency p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms; inputs acknowledged p50 %.1f ms, "
      "p99 %.1f ms, max %.1f ms\n",
      name.c_str(), m.latency.p50, m.latency.p99, m.latency.p99_9, m.latency.max, m.acked.p50, m.acked.p99,
      m.acked.max);
  if (m.stalls.count > 0) {
    std::printf(
        "%s: %lld outputs (%.2f%%) later than %.0f ms, in %d stall(s); the longest: inputs of %.0f ms from "
        "%.1f s into the run\n",
        name.c_str(), m.stalls.inputs, 100.0 * static_cast<double>(m.stalls.inputs) / static_cast<double>(m.offered),
        options.stall_ms, m.stalls.count, m.stalls.longest_s * 1000.0, m.stalls.longest_at_s);
  }
  std::printf(
      "%s: CPU over %.1f s, in cores: contender %.2f, broker %.2f, benchmark %.2f (its producing thread "
      "%.2f), rest of the machine %.2f of %ld; peak RSS %.1f MB; %s\n",
      name.c_str(), m.window_s, m.contender_cpu / window, m.broker_cpu / window, m.bench_cpu / window,
      m.producer_thread_cpu / window, std::max(0.0, m.other_cpu) / window, sysconf(_SC_NPROCESSORS_ONLN),
      m.usage.peak_rss_kb / 1024.0,
      m.kept_up(rate) ? "kept up"
                      : ("did NOT keep up (" + m.not_kept_up(rate) + "): these latencies include queueing").c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"End-to-end latency of a kernel at a steady offered rate"};
  std::string broker_binary, kernel_binary, raw_binary;
  std::vector<std::string> modes{"at_least_once", "exactly_once"};
  Options options;
  bool smoke = false;
  app.add_option("--broker", broker_binary, "kernel-dev-broker")->required();
  app.add_option("--kernel", kernel_binary, "example-enricher")->required();
  app.add_option("--raw", raw_binary,
                 "The raw loop, measured as a reference in each --delivery mode (exactly_once: its transactional "
                 "variant)");
  app.add_option("--delivery", modes, "KERNEL_DELIVERY modes to measure (a mode the kernel refuses is skipped)")
      ->check(CLI::IsMember({"at_least_once", "exactly_once"}));
  app.add_option("--rate", options.rate, "Offered messages per second")->check(CLI::Range(1, 1000000));
  app.add_option("--seconds", options.seconds, "How long the rate is offered")->check(CLI::Range(0.1, 600.0));
  app.add_option("--partitions", options.partitions, "Partitions of every topic")->check(CLI::Range(1, 1000));
  app.add_option("--input-linger", options.input_linger_ms,
                 "linger.ms of the inputs' producer: the broker answers a fetch with one produced batch per "
                 "partition, so smaller batches cap every contender's rate")
      ->check(CLI::Range(0, 1000));
  app.add_option("--max-wait", options.max_wait,
                 "KAFKA_CONSUMER_MAX_WAIT of every contender: the mock broker holds an empty fetch this long "
                 "(a real broker answers when data arrives)");
  app.add_option("--stall-ms", options.stall_ms, "Outputs later than this count as stalls (reported per contender)")
      ->check(CLI::Range(1.0, 60000.0));
  app.add_option("--set", options.settings, "NAME=VALUE: a setting for every contender (repeatable)")
      ->check([](const std::string& value) {
        return value.find('=') == std::string::npos || value.front() == '=' ? "expected NAME=VALUE" : "";
      });
  app.add_flag("--smoke", smoke, "A few hundred messages: checks the benchmark runs, measures nothing");
  CLI11_PARSE(app, argc, argv);
  if (smoke) {
    options.rate = 1000;
    options.seconds = 0.3;
    options.warmup = 20;
  }
  const long long total = options.warmup + static_cast<long long>(options.rate * options.seconds);
  if (total > 5'000'000) {
    std::cerr << "bench-latency: --rate x --seconds above 5,000,000 inputs (the broker keeps about 5 MB a partition)\n";
    return 64;
  }

  // Per mode, the raw loop then the kernel, one after the other: a load that changes during the
  // run hits a pair alike. The raw loop's exactly-once is its transactional variant (raw_loop.cpp).
  struct Contender {
    std::string name, mode;
    bool raw = false;
  };
  std::vector<Contender> contenders;
  for (const auto& mode : modes) {
    if (!raw_binary.empty()) contenders.push_back({mode == "at_least_once" ? "raw" : "raw-" + mode, mode, true});
    contenders.push_back({"kernel-" + mode, mode, false});
  }
  std::vector<std::string> topics{"lat.dlq"};
  for (const auto& [name, mode, raw] : contenders) {
    topics.push_back("lat.in." + name);
    topics.push_back("lat.out." + name);
  }
  bench::Child broker;
  options.servers = bench::start_broker_or_report(broker_binary, options.partitions, topics, broker);
  if (options.servers.empty()) return 69;
  options.broker_pid = broker.pid;
  std::printf(
      "broker %s, %d partitions; %d msg/s offered for %.1f s to each contender; inputs batched for %d ms, "
      "contenders' KAFKA_CONSUMER_MAX_WAIT=%s\n",
      options.servers.c_str(), options.partitions, options.rate, options.seconds, options.input_linger_ms,
      options.max_wait.c_str());
  std::fflush(stdout);

  std::vector<std::pair<std::string, Measurement>> results;
  for (const auto& [name, mode, raw] : contenders) {
    std::map<std::string, std::string> env;
    // at_least_once is the default: set only when asked for a mode other than the default, so
    // a kernel without the setting still measures its at-least-once delivery.
    if (mode != "at_least_once") env["KERNEL_DELIVERY"] = mode;
    Measurement measurement;
    try {
      measurement =
          measure(options, name, raw ? raw_binary : kernel_binary, !raw, env, env.empty() ? "" : "KERNEL_DELIVERY");
    } catch (const std::exception& error) {
      measurement.skipped = error.what();
    }
    if (!measurement.skipped.empty()) {
      std::printf("%s: skipped: %s\n", name.c_str(), measurement.skipped.c_str());
      std::fflush(stdout);
    } else {
      report(name, measurement, options);
    }
    results.emplace_back(name, measurement);
  }
  bench::stop(broker);
  bool all_ran = true;
  for (const auto& [name, m] : results) {
    if (!m.ran) continue;
    const double window = m.window_s > 0 ? m.window_s : 1;
    std::printf(
        "%s p50_ms=%.1f p99_ms=%.1f p99_9_ms=%.1f max_ms=%.1f offered_msg_s=%d produced_msg_s=%.0f "
        "output_msg_s=%.0f cpu_cores=%.2f broker_cpu_cores=%.2f other_cpu_cores=%.2f kept_up=%s "
        "peak_rss_mb=%.1f lost=%lld\n",
        name.c_str(), m.latency.p50, m.latency.p99, m.latency.p99_9, m.latency.max, options.rate, m.produced_rate,
        m.output_rate, m.contender_cpu / window, m.broker_cpu / window, std::max(0.0, m.other_cpu) / window,
        m.kept_up(options.rate) ? "yes" : "no", m.usage.peak_rss_kb / 1024.0, m.offered - m.received);
    all_ran = all_ran && m.received == m.offered;
  }
  return all_ran ? 0 : 1;
}
