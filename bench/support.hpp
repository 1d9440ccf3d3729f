#pragma once
// What the benchmarks share: starting processes with their own environment, reading their
// peak memory and CPU time, starting kernel-dev-broker, counting and timing a contender's
// outputs, and the order documents they process.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "broker/record_io.hpp"
#include "kernel/jsonl.hpp"

namespace bench {

struct Child {
  pid_t pid = -1;
  FILE* stdout_pipe = nullptr;
};

inline Child spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                   bool capture_stdout) {
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
inline long peak_rss_kb(pid_t pid) {
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

/// CPU time (user + system, all threads) a running process has used so far, in seconds
/// (/proc/<pid>/stat: clock ticks, 10 ms apart).
inline double cpu_seconds_so_far(pid_t pid) {
  FILE* stat = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!stat) return 0;
  char line[2048] = {};
  const bool read = std::fgets(line, sizeof line, stat) != nullptr;
  std::fclose(stat);
  if (!read) return 0;
  // Fields after the command name (which may hold spaces), from field 3: utime is 14, stime 15.
  const char* rest = std::strrchr(line, ')');
  unsigned long utime = 0, stime = 0;
  if (!rest || std::sscanf(rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) {
    return 0;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// CPU time the whole machine has spent busy so far (every core, every process), in seconds,
/// from /proc/stat: with a benchmark's own processes subtracted, what else ran meanwhile.
inline double machine_busy_seconds() {
  FILE* stat = std::fopen("/proc/stat", "r");
  if (!stat) return 0;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  const int read = std::fscanf(stat, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle,
                               &iowait, &irq, &softirq, &steal);
  std::fclose(stat);
  if (read != 8) return 0;
  return static_cast<double>(user + nice + system + irq + softirq + steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// How a stopped process used the machine.
struct Usage {
  long peak_rss_kb = 0;    // VmHWM just before it was stopped
  double cpu_seconds = 0;  // user + system, all its threads, start to exit
  int exit_status = 0;
};

inline double seconds_of(const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; }

/// Stops a process with SIGTERM (its graceful shutdown) and waits for it.
inline Usage stop(const Child& child) {
  Usage usage;
  usage.peak_rss_kb = peak_rss_kb(child.pid);
  kill(child.pid, SIGTERM);
  int status = 0;
  rusage used{};
  wait4(child.pid, &status, 0, &used);
  usage.cpu_seconds = seconds_of(used.ru_utime) + seconds_of(used.ru_stime);
  usage.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return usage;
}

/// Starts kernel-dev-broker and returns its bootstrap servers (it prints `...=<servers>` first).
inline std::string start_broker(const std::string& binary, int partitions, const std::vector<std::string>& topics,
                                Child& broker) {
  std::vector<std::string> args{binary, "--partitions", std::to_string(partitions)};
  for (const auto& topic : topics) {
    args.push_back("--topic");
    args.push_back(topic);
  }
  broker = spawn(args, {}, true);
  char line[256] = {};
  if (!broker.stdout_pipe || !std::fgets(line, sizeof line, broker.stdout_pipe)) {
    throw std::runtime_error("the broker did not start");
  }
  std::string servers(line);
  servers = servers.substr(servers.find('=') + 1);
  servers.erase(servers.find_last_not_of("\r\n") + 1);
  return servers;
}

/// start_broker() for a benchmark's main(): on failure, says why on stderr, stops what started
/// and returns "" (the benchmark then exits 69, unavailable).
inline std::string start_broker_or_report(const std::string& binary, int partitions,
                                          const std::vector<std::string>& topics, Child& broker) {
  try {
    return start_broker(binary, partitions, topics, broker);
  } catch (const std::exception& error) {
    std::cerr << "bench: " << error.what() << "\n";
    if (broker.pid > 0) stop(broker);
    return {};
  }
}

/// Records on `topic` so far: the sum of its partitions' high watermarks.
inline long long output_count(rd_kafka_t* client, const std::string& topic, int partitions) {
  long long total = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(client, topic.c_str(), p, &low, &high, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      total += high;
    }
  }
  return total;
}

/// What watch_output() saw of a contender's output topic.
struct OutputWindow {
  long long seen = 0;             // outputs at the end (all of them unless the deadline passed)
  bool complete = false;          // all the expected outputs appeared before the deadline
  long long counted = 0;          // outputs written inside the window
  double seconds = 0;             // the window's length
  double cpu_seconds = 0;         // the contender's CPU time (user + system, all threads) inside it
  double broker_cpu_seconds = 0;  // the broker's, when its pid was given
  double rate() const { return seconds > 0 ? static_cast<double>(counted) / seconds : 0.0; }
};

/// Samples `topic`'s high watermarks every 5 ms until `messages` outputs exist or `deadline`
/// passes. The window starts at the first sample with 5% of them, so start-up (joining the
/// group, the first fetches) is not measured; when all of them appear between two samples
/// (a smoke run), it starts at the sample before. The process `pid` is not stopped. With a
/// `broker` pid, the broker's CPU time over the same window is measured too.
inline OutputWindow watch_output(const std::string& servers, const std::string& topic, int partitions,
                                 long long messages, pid_t pid, pid_t broker = -1,
                                 std::chrono::seconds deadline_after = std::chrono::seconds(180)) {
  using Clock = std::chrono::steady_clock;
  auto watcher = kernel::detail::make_plain_client(RD_KAFKA_PRODUCER, servers);
  const auto deadline = Clock::now() + deadline_after;
  long long first_count = 0, count = 0, previous_count = 0;
  Clock::time_point first_seen{}, previous_seen = Clock::now();
  double first_cpu = 0, previous_cpu = 0, first_broker = 0, previous_broker = 0;
  auto broker_cpu = [broker] { return broker >= 0 ? cpu_seconds_so_far(broker) : 0.0; };
  bool started = false;
  while (Clock::now() < deadline) {
    count = output_count(watcher.get(), topic, partitions);
    if (count >= messages / 20 && !started) {
      started = true;
      first_count = count;
      first_seen = Clock::now();
      first_cpu = cpu_seconds_so_far(pid);
      first_broker = broker_cpu();
      if (count >= messages) {
        first_count = previous_count;
        first_seen = previous_seen;
        first_cpu = previous_cpu;
        first_broker = previous_broker;
      }
    }
    previous_count = count;
    previous_seen = Clock::now();
    previous_cpu = cpu_seconds_so_far(pid);
    previous_broker = broker_cpu();
    if (count >= messages) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // sampling interval
  }
  OutputWindow window;
  window.seen = count;
  window.complete = count >= messages;
  if (!window.complete) return window;
  window.counted = messages - first_count;
  window.seconds = std::chrono::duration<double>(Clock::now() - first_seen).count();
  window.cpu_seconds = cpu_seconds_so_far(pid) - first_cpu;
  window.broker_cpu_seconds = broker_cpu() - first_broker;
  return window;
}

/// The i-th order, as example-enricher and the raw loop read it; `value_bytes` above its
/// natural ~190 bytes pads the note field so the value has about that size.
inline kernel::jsonl::Record make_order(long long i, std::size_t value_bytes = 0) {
  static const char* items[] = {"book", "laptop", "pen", "desk", "chair", "lamp"};
  kernel::jsonl::Record record;
  record.key = "customer-" + std::to_string(i % 5000);
  std::string note = "standard delivery, leave at the door";
  nlohmann::json order{{"order_id", i},
                       {"customer", *record.key},
                       {"item", items[i % 6]},
                       {"quantity", 1 + i % 4},
                       {"amount", static_cast<double>(i % 50000) / 100.0},
                       {"currency", "EUR"},
                       {"created_at", "2026-11-23T03:09:38.123Z"},
                       {"note", note}};
  record.value = order.dump();
  if (record.value.size() < value_bytes) {
    note.append(value_bytes - record.value.size(), '.');
    order["note"] = note;
    record.value = order.dump();
  }
  return record;
}

}  // namespace bench
