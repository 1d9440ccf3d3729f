// bench-latency: end-to-end latency of example-enricher (and, as a reference, the raw loop)
// at a steady offered rate, against one kernel-dev-broker, in one run.
//
// Latency of a message: from its input's CreateTime (set by this program when it produces the
// input; kept here to the microsecond) to the moment its output reaches a consumer in this
// program (read_committed, fetch.wait.max.ms=1). kernel-dev-broker (librdkafka's mock
// cluster) holds a fetch that finds no data for the whole fetch.wait.max.ms (a real broker
// answers as soon as data arrives), so every contender runs with KAFKA_CONSUMER_MAX_WAIT=5ms
// (--max-wait) rather than the default 500ms, which would otherwise dominate the figures. That is the output's
// appearance to a downstream reader, which includes the kernel's producer acknowledgement and, under exactly-once, the
// transaction's commit. Inputs are produced at --rate messages per second, spread evenly (a burst every millisecond),
// for --seconds, after a warm-up that waits for the contender to answer. Each contender reads its own input topic and
// writes its own output.
//
// Last lines: one `<name> p50_ms=... p99_ms=...` per contender measured.
#include <algorithm>
#include <atomic>
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
#include "support.hpp"

using Clock = std::chrono::steady_clock;

namespace {

long long now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Options {
  std::string servers;
  int partitions = 16;
  int rate = 20000;
  double seconds = 10;
  int warmup = 200;
  std::string max_wait = "5ms";
};

struct Measurement {
  bool ran = false;
  std::string skipped;  // why not, when it did not run
  long long offered = 0, received = 0;
  double achieved_rate = 0;  // outputs per second, from the first input to the last output
  double offered_rate = 0;   // inputs per second the producer managed
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  bench::Usage usage;
};

/// Produces `count` inputs with keys lat-<first>.. at `rate` per second (rate 0: at once),
/// recording each one's CreateTime in microseconds.
/// Returns how long producing took, in seconds.
double produce_paced(const Options& options, const std::string& topic, long long first, long long count, int rate,
                     const std::vector<std::string>& values, std::vector<long long>& created_us) {
  auto producer = kernel::detail::make_plain_client(RD_KAFKA_PRODUCER, options.servers, {{"linger.ms", "1"}});
  kernel::detail::TopicPtr target(rd_kafka_topic_new(producer.get(), topic.c_str(), nullptr));
  const auto start = Clock::now();
  long long sent = 0;
  while (sent < count) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const long long due = rate > 0 ? std::min<long long>(count, static_cast<long long>(elapsed * rate) + 1) : count;
    for (; sent < due; ++sent) {
      const long long seq = first + sent;
      const auto& value = values[static_cast<std::size_t>(seq)];
      const auto key = "lat-" + std::to_string(seq);
      const auto at = now_us();
      created_us[static_cast<std::size_t>(seq)] = at;
      while (rd_kafka_producev(producer.get(), RD_KAFKA_V_RKT(target.get()), RD_KAFKA_V_KEY(key.data(), key.size()),
                               RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(at / 1000),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer.get(), 1);
      }
    }
    rd_kafka_poll(producer.get(), 0);
    if (rate > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the pacing tick
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  rd_kafka_flush(producer.get(), 30000);
  return seconds;
}

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
    if (!message || message->err || !message->key || message->key_len < 5) return;
    const auto at = now_us();
    const std::string key(static_cast<const char*>(message->key) + 4, message->key_len - 4);
    const auto seq = static_cast<std::size_t>(std::stoll(key));
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

Measurement measure(const Options& options, const std::string& name, const std::string& binary,
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
  env.insert(extra_env.begin(), extra_env.end());
  if (!extra_env.empty()) {
    result.skipped = refusal(binary, env, required_setting);
    if (!result.skipped.empty()) return result;
  }
  const long long measured = static_cast<long long>(options.rate * options.seconds);
  const long long total = options.warmup + measured;
  std::vector<long long> created_us(static_cast<std::size_t>(total), 0), arrived_us(static_cast<std::size_t>(total), 0);
  std::vector<std::string> values;
  values.reserve(static_cast<std::size_t>(total));
  for (long long i = 0; i < total; ++i) values.push_back(bench::make_order(i).value);
  const auto child = bench::spawn({binary}, env, false);
  OutputReader reader(options, output);
  long long received = 0;

  // Warm-up: the contender has joined its group and answers (inputs produced before it
  // joined wait for it, so this also absorbs start-up).
  produce_paced(options, input, 0, options.warmup, 0, values, created_us);
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

  double producing = 0;
  std::thread producer(
      [&] { producing = produce_paced(options, input, options.warmup, measured, options.rate, values, created_us); });
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::duration<double>(options.seconds + 20);
  while (received < total && Clock::now() < deadline) reader.read(arrived_us, received, 10);
  producer.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  result.usage = bench::stop(child);

  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(measured));
  for (auto seq = static_cast<std::size_t>(options.warmup); seq < created_us.size(); ++seq) {
    if (arrived_us[seq] > 0) latencies.push_back(static_cast<double>(arrived_us[seq] - created_us[seq]) / 1000.0);
  }
  result.ran = true;
  result.offered = measured;
  result.received = static_cast<long long>(latencies.size());
  result.achieved_rate = static_cast<double>(result.received) / elapsed;
  result.offered_rate = static_cast<double>(measured) / producing;
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    auto at = [&](double q) {
      return latencies[static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1))];
    };
    result.p50_ms = at(0.50);
    result.p99_ms = at(0.99);
    result.max_ms = latencies.back();
  }
  return result;
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
  app.add_option("--raw", raw_binary, "The raw loop, measured as a reference (at-least-once)");
  app.add_option("--delivery", modes, "KERNEL_DELIVERY modes to measure (a mode the kernel refuses is skipped)")
      ->check(CLI::IsMember({"at_least_once", "exactly_once"}));
  app.add_option("--rate", options.rate, "Offered messages per second")->check(CLI::Range(1, 1000000));
  app.add_option("--seconds", options.seconds, "How long the rate is offered")->check(CLI::Range(0.1, 600.0));
  app.add_option("--partitions", options.partitions, "Partitions of every topic")->check(CLI::Range(1, 1000));
  app.add_option("--max-wait", options.max_wait,
                 "KAFKA_CONSUMER_MAX_WAIT of every contender: the mock broker holds an empty fetch this long "
                 "(a real broker answers when data arrives)");
  app.add_flag("--smoke", smoke, "A few hundred messages: checks the benchmark runs, measures nothing");
  CLI11_PARSE(app, argc, argv);
  if (smoke) {
    options.rate = 1000;
    options.seconds = 0.3;
    options.warmup = 20;
  }

  std::vector<std::pair<std::string, std::string>> contenders;  // name, delivery mode ("" = raw loop)
  if (!raw_binary.empty()) contenders.emplace_back("raw", "");
  for (const auto& mode : modes) contenders.emplace_back("kernel-" + mode, mode);
  std::vector<std::string> topics{"lat.dlq"};
  for (const auto& [name, mode] : contenders) {
    topics.push_back("lat.in." + name);
    topics.push_back("lat.out." + name);
  }
  bench::Child broker;
  try {
    options.servers = bench::start_broker(broker_binary, options.partitions, topics, broker);
  } catch (const std::exception& error) {
    std::cerr << "bench: " << error.what() << "\n";
    return 69;
  }
  std::printf("broker %s, %d partitions; %d msg/s offered for %.1f s to each contender\n", options.servers.c_str(),
              options.partitions, options.rate, options.seconds);
  std::fflush(stdout);

  std::vector<std::pair<std::string, Measurement>> results;
  for (const auto& [name, mode] : contenders) {
    std::map<std::string, std::string> env;
    // at_least_once is the default: set only when asked for a mode other than the default, so
    // a kernel without the setting still measures its at-least-once delivery.
    if (!mode.empty() && mode != "at_least_once") env["KERNEL_DELIVERY"] = mode;
    const auto measurement =
        measure(options, name, mode.empty() ? raw_binary : kernel_binary, env, env.empty() ? "" : "KERNEL_DELIVERY");
    if (!measurement.skipped.empty()) {
      std::printf("%s: skipped: %s\n", name.c_str(), measurement.skipped.c_str());
    } else {
      std::printf(
          "%s: offered %.0f msg/s, %lld of %lld outputs at %.0f msg/s; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; peak RSS %.1f MB, "
          "%.1f s CPU\n",
          name.c_str(), measurement.offered_rate, measurement.received, measurement.offered, measurement.achieved_rate,
          measurement.p50_ms, measurement.p99_ms, measurement.max_ms, measurement.usage.peak_rss_kb / 1024.0,
          measurement.usage.cpu_seconds);
    }
    std::fflush(stdout);
    results.emplace_back(name, measurement);
  }
  bench::stop(broker);
  bool all_ran = true;
  for (const auto& [name, measurement] : results) {
    if (!measurement.ran) continue;
    std::printf("%s p50_ms=%.1f p99_ms=%.1f peak_rss_mb=%.1f lost=%lld\n", name.c_str(), measurement.p50_ms,
                measurement.p99_ms, measurement.usage.peak_rss_kb / 1024.0, measurement.offered - measurement.received);
    all_ran = all_ran && measurement.received == measurement.offered;
  }
  return all_ran ? 0 : 1;
}
