#include "run/samples.hpp"

#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/record_io.hpp"
#include "http/operations.hpp"
#include "kernel/jsonl.hpp"
#include "loop/kernel_loop.hpp"
#include "run/signals.hpp"
#include "run/topics.hpp"

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

/// "1 message", "2 messages".
std::string count_of(std::size_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

std::optional<std::string> header_of(const jsonl::Record& record, std::string_view name) {
  for (const auto& [key, value] : record.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

using Position = std::pair<std::int32_t, std::int64_t>;

/// What became of a sample: "output", "dead_letter" or "business_error", with the reason.
struct Fate {
  std::string kind;
  std::string reason;  ///< dlq-failure-reason of a dead letter
  std::string detail;  ///< the error's message, for the report
};

/// The last outcome the handler chain gave each input message, by partition and offset.
/// Filled on the loop thread, read after the loop has stopped.
struct OutcomeLog {
  std::map<Position, Outcome> last;
};

/// Each sample's fate: a dead letter that names it as its original, else the chain's last
/// outcome for it (a business error, or a success whose outputs were written).
std::vector<std::optional<Fate>> fates_of(const std::vector<RecordPosition>& positions, const std::string& input,
                                          const std::vector<jsonl::Record>& dead_letters, const OutcomeLog& outcomes) {
  std::map<Position, Fate> dead;
  for (const auto& letter : dead_letters) {
    const auto topic = header_of(letter, "dlq-original-topic");
    const auto partition = header_of(letter, "dlq-original-partition");
    const auto offset = header_of(letter, "dlq-original-offset");
    if (topic != input || !partition || !offset) continue;
    try {
      dead[{std::stoi(*partition), std::stoll(*offset)}] =
          Fate{"dead_letter", header_of(letter, "dlq-failure-reason").value_or(""),
               header_of(letter, "dlq-error-message").value_or("")};
    } catch (const std::exception&) {
      // Not one of ours: a dead letter names its original with decimal numbers.
    }
  }
  std::vector<std::optional<Fate>> fates;
  for (const auto& position : positions) {
    const Position at{position.partition, position.offset};
    if (auto found = dead.find(at); found != dead.end()) {
      fates.emplace_back(found->second);
    } else if (auto outcome = outcomes.last.find(at); outcome == outcomes.last.end()) {
      fates.emplace_back(std::nullopt);  // never handled
    } else if (outcome->second.kind == Outcome::Kind::business) {
      fates.emplace_back(Fate{"business_error", "", outcome->second.message});
    } else if (outcome->second.ok()) {
      fates.emplace_back(Fate{"output", "", ""});
    } else {
      fates.emplace_back(Fate{std::string(to_string(outcome->second.kind)), "", outcome->second.message});
    }
  }
  return fates;
}

/// One line per sample whose fate differs from its `expect`; returns how many differ.
std::size_t report_expectations(const std::string& file, const std::vector<jsonl::Record>& records,
                                const std::vector<std::optional<Fate>>& fates, spdlog::logger& log) {
  std::size_t expected = 0, differ = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& record = records[i];
    if (!record.expect) continue;
    ++expected;
    const auto& fate = fates[i];
    const bool same =
        fate && fate->kind == *record.expect && (!record.expect_reason || fate->reason == *record.expect_reason);
    if (same) continue;
    ++differ;
    std::string wanted = *record.expect;
    if (record.expect_reason) wanted += " (" + *record.expect_reason + ")";
    std::string got = "not handled";
    if (fate) {
      got = fate->kind;
      if (!fate->reason.empty() || !fate->detail.empty()) {
        got += " (" + fate->reason + (fate->reason.empty() || fate->detail.empty() ? "" : ": ") + fate->detail + ")";
      }
    }
    log.error("{} line {}: expected {}, got {}", file, record.line, wanted, got);
  }
  if (expected > 0 && differ == 0) log.info("samples: {} met", count_of(expected, "expectation"));
  if (differ > 0) {
    log.error("samples: {} of {} differed", differ, count_of(expected, "expectation"));
  }
  return differ;
}
}  // namespace

int run_samples(const KernelSpec& spec, Config config, const std::string& file, const Environment& environment,
                const std::shared_ptr<spdlog::logger>& log) {
  std::vector<jsonl::Record> records;
  try {
    records = jsonl::read_file(file);
  } catch (const jsonl::ParseError& error) {
    std::cerr << spec.name << ": --samples " << error.what() << "\n";
    return exit_code::usage;
  }
  if (auto set = environment.find("KAFKA_BOOTSTRAP_SERVERS");
      set != environment.end() && !set->second.empty() && set->second != "embedded") {
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
  if (const int code = verify_topics(config, MissingTopics::refuse, log); code != exit_code::ok) return code;

  const auto& input = config.settings().input_topics.front();
  std::map<std::int32_t, std::int64_t> ends;
  std::vector<RecordPosition> positions;
  try {
    ends = produce_records(broker->bootstrap_servers(), input, records, std::chrono::seconds(30), &positions);
  } catch (const std::exception& error) {
    log->error("cannot write the samples to {}: {}", input, error.what());
    return exit_code::software;
  }
  log->info("wrote {} to {}", count_of(records.size(), "sample message"), input);

  // Outermost, so it sees each attempt's outcome as the loop does.
  OutcomeLog outcomes;
  KernelSpec observed = spec;
  observed.middleware.insert(observed.middleware.begin(),
                             [&outcomes](const Message& message, Context& context, const Next& next) {
                               auto outcome = next(message, context);
                               outcomes.last[{message.partition(), message.offset()}] = outcome;
                               return outcome;
                             });

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
  KernelLoop loop(std::move(config), observed, log, std::move(hooks), publication_of(operations.get()));
  loop_ptr = &loop;
  samples_loop = &loop;
  StopSignals signals(&stop_samples_loop, spec.name, loop.settings().log_format == LogFormat::json);
  const int code = run_loop(loop, loop.settings(), *log);
  samples_loop = nullptr;
  // Read back what was written, outputs first, as the broker stores it.
  const auto& dlq = loop.settings().dlq_topic;
  std::vector<jsonl::Record> dead_records;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [topic, count] : written) {
      if ((topic == dlq) != (pass == 1)) continue;
      for (const auto& record : read_topic(broker->bootstrap_servers(), topic, count, std::chrono::seconds(10))) {
        std::cout << jsonl::format(record) << '\n';
        if (pass == 1) dead_records.push_back(record);
      }
    }
  }
  std::cout.flush();
  log->info("samples done: {} in, {} produced, {} dead-lettered", records.size(), outputs, dead_letters);
  const auto differ = report_expectations(file, records, fates_of(positions, input, dead_records, outcomes), *log);
  return code == exit_code::ok && differ > 0 ? exit_code::failure : code;
}

}  // namespace kernel::detail
