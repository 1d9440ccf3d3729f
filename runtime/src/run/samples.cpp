#include "run/samples.hpp"

#include <iostream>
#include <random>

#include "broker/record_io.hpp"
#include "kernel/jsonl.hpp"
#include "loop/kernel_loop.hpp"
#include "run/signals.hpp"

namespace kernel::detail {

namespace {
KernelLoop* samples_loop = nullptr;
void stop_samples_loop() {
  if (samples_loop) samples_loop->request_stop();
}

std::string throwaway_group(const std::string& name) {
  std::random_device random;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", random());
  return name + "-samples-" + suffix;
}
}  // namespace

int run_samples(const KernelSpec& spec, Config config, const std::string& file, const Environment& environment,
                std::shared_ptr<spdlog::logger> log) {
  std::vector<jsonl::Record> records;
  try {
    records = jsonl::read_file(file);
  } catch (const jsonl::ParseError& error) {
    std::cerr << spec.name << ": --samples " << error.what() << "\n";
    return exit_code::usage;
  }
  if (auto set = environment.find("KAFKA_BOOTSTRAP_SERVERS"); set != environment.end() && !set->second.empty() &&
                                                               set->second != "embedded") {
    log->info("--samples runs on the embedded broker; KAFKA_BOOTSTRAP_SERVERS={} is not used", set->second);
  }
  std::unique_ptr<EmbeddedBroker> broker;
  try {
    broker = start_embedded_broker(config, *log);
  } catch (const std::exception& error) {
    log->error("{}", error.what());
    return exit_code::software;
  }
  config.set_group_id(throwaway_group(spec.name));

  const auto& input = config.settings().input_topics.front();
  std::map<std::int32_t, std::int64_t> ends;
  try {
    ends = produce_records(broker->bootstrap_servers(), input, records);
  } catch (const std::exception& error) {
    log->error("cannot write the samples to {}: {}", input, error.what());
    return exit_code::software;
  }
  log->info("wrote {} sample messages to {}", records.size(), input);

  std::size_t outputs = 0, dead_letters = 0;
  std::map<std::string, std::size_t> written;  // topic -> messages acknowledged
  LoopHooks hooks;
  hooks.on_delivered = [&](const rd_kafka_message_t* message, bool dead_letter) {
    ++(dead_letter ? dead_letters : outputs);
    ++written[rd_kafka_topic_name(message->rkt)];
  };
  KernelLoop* loop_ptr = nullptr;
  hooks.should_stop = [&] {
    const auto committed = loop_ptr->committed_offsets();
    for (const auto& [partition, end] : ends) {
      auto it = committed.find({input, partition});
      if (it == committed.end() || it->second < end) return false;
    }
    return true;
  };
  // Off unless KERNEL_HTTP_PORT was set for this run.
  std::unique_ptr<Operations> operations;
  try {
    operations = Operations::start_if_enabled(config.settings(), log);
  } catch (const PortUnavailable& error) {
    log->error("{}", error.what());
    return exit_code::unavailable;
  }
  KernelLoop loop(std::move(config), spec, log, std::move(hooks), operations.get());
  loop_ptr = &loop;
  samples_loop = &loop;
  StopSignals signals(&stop_samples_loop, spec.name, loop.settings().log_format == "json");
  const int code = run_loop(loop, loop.settings(), *log);
  samples_loop = nullptr;
  // Read back what was written, outputs first, as the broker stores it.
  const auto& dlq = loop.settings().dlq_topic;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [topic, count] : written) {
      if ((topic == dlq) != (pass == 1)) continue;
      for (const auto& record : read_topic(broker->bootstrap_servers(), topic, count, std::chrono::seconds(10))) {
        std::cout << jsonl::format(record) << '\n';
      }
    }
  }
  std::cout.flush();
  log->info("samples done: {} in, {} produced, {} dead-lettered", records.size(), outputs, dead_letters);
  return code;
}

}  // namespace kernel::detail
