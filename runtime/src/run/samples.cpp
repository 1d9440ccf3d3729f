#include "run/samples.hpp"

#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/record_io.hpp"
#include "http/operations.hpp"
#include "kernel/env_vars.hpp"
#include "kernel/jsonl.hpp"
#include "log/logging.hpp"
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

/// Records in the dead-letter form (a dead letter, or a business error on KAFKA_ERROR_TOPIC)
/// by the input position their dlq-original-* headers name, as `kind`.
void add_originals(const std::vector<jsonl::Record>& records, const std::string& input, const std::string& kind,
                   std::map<Position, Fate>& fates) {
  for (const auto& letter : records) {
    const auto topic = header_of(letter, "dlq-original-topic");
    const auto partition = header_of(letter, "dlq-original-partition");
    const auto offset = header_of(letter, "dlq-original-offset");
    if (topic != input || !partition || !offset) continue;
    try {
      // A business error's record carries the dead-letter headers too, but it is no dead letter.
      fates.try_emplace({std::stoi(*partition), std::stoll(*offset)},
                        Fate{kind, kind == "dead_letter" ? header_of(letter, "dlq-failure-reason").value_or("") : "",
                             header_of(letter, "dlq-error-message").value_or("")});
    } catch (const std::exception&) {
      // Not one of ours: a dead letter names its original with decimal numbers.
    }
  }
}

/// Each sample's fate: a dead letter that names it as its original, else a business error's
/// record on the error topic, else the chain's last outcome for it (a business error, or a
/// success whose outputs were written).
std::vector<std::optional<Fate>> fates_of(const std::vector<RecordPosition>& positions, const std::string& input,
                                          const std::vector<jsonl::Record>& dead_letters,
                                          const std::vector<jsonl::Record>& business_errors,
                                          const OutcomeLog& outcomes) {
  std::map<Position, Fate> dead;
  add_originals(dead_letters, input, "dead_letter", dead);
  add_originals(business_errors, input, "business_error", dead);
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
  if (auto set = environment.find(env_var::KAFKA_BOOTSTRAP_SERVERS);
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
  if (spec.batch_handler) {
    // No middleware around batches: the handler itself is wrapped.
    observed.batch_handler = [&outcomes, &spec](Batch& batch, Context& context) {
      auto record_all = [&](const Outcome& outcome) {
        for (const auto& message : batch) outcomes.last[{message.partition(), message.offset()}] = outcome;
      };
      try {
        spec.batch_handler(batch, context);
      } catch (const std::exception& error) {
        record_all(Outcome::from_exception(error, spec.transient_errors));
        throw;
      }
      for (std::size_t i = 0; i < batch.size(); ++i)
        outcomes.last[{batch[i].partition(), batch[i].offset()}] = batch.outcome(i);
    };
  } else {
    observed.middleware.insert(observed.middleware.begin(),
                               [&outcomes](const Message& message, Context& context, const Next& next) {
                                 auto outcome = next(message, context);
                                 outcomes.last[{message.partition(), message.offset()}] = outcome;
                                 return outcome;
                               });
  }

  // KAFKA_ERROR_TOPIC's records are delivered as dead letters are (same form, same tracking),
  // yet each is a business error: counted, printed and checked as one.
  const std::string error_topic = config.settings().error_topic.value_or("");
  std::size_t outputs = 0, dead_letters = 0, business_errors = 0;
  std::map<std::string, std::size_t> written;  // topic -> messages acknowledged
  LoopHooks hooks;
  hooks.on_delivered = [&](const rd_kafka_message_t* message, bool dead_letter) {
    const char* topic = rd_kafka_topic_name(message->rkt);
    if (!error_topic.empty() && topic == error_topic) {
      ++business_errors;
    } else {
      ++(dead_letter ? dead_letters : outputs);
    }
    ++written[topic];
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
    operations = Operations::start_if_enabled(config.settings(), spec.version, log);
  } catch (const PortUnavailable& error) {
    log->error("{}", error.what());
    return exit_code::unavailable;
  }
  std::optional<KernelLoop> made;
  try {
    made.emplace(std::move(config), observed, log, std::move(hooks), publication_of(operations.get()));
  } catch (const std::invalid_argument& error) {
    // A bug of the kernel's code seen at start (an invalid KernelSpec::metrics declaration).
    log->error("{}", error.what());
    return exit_code::software;
  }
  KernelLoop& loop = *made;
  loop_ptr = &loop;
  samples_loop = &loop;
  StopSignals signals(&stop_samples_loop, spec.name, loop.settings().log_format == LogFormat::json);
  const int code = run_loop(loop, loop.settings(), *log);
  samples_loop = nullptr;
  // Read back what was written, as the broker stores it: outputs, then business errors on the
  // error topic, then dead letters.
  const auto& dlq = loop.settings().dlq_topic;
  const auto pass_of = [&](const std::string& topic) { return topic == dlq ? 2 : topic == error_topic ? 1 : 0; };
  std::vector<jsonl::Record> dead_records, business_records;
  for (int pass = 0; pass < 3; ++pass) {
    for (const auto& [topic, count] : written) {
      if (pass_of(topic) != pass) continue;
      for (const auto& record : read_topic(broker->bootstrap_servers(), topic, count, std::chrono::seconds(10))) {
        std::cout << jsonl::format(record) << '\n';
        if (pass == 1) business_records.push_back(record);
        if (pass == 2) dead_records.push_back(record);
      }
    }
  }
  std::cout.flush();
  log->info("samples done: {} in, {} produced, {} dead-lettered{}", records.size(), outputs, dead_letters,
            error_topic.empty() ? std::string()
                                : ", " + count_of(business_errors, "business error") + " published to " + error_topic);
  const auto differ =
      report_expectations(file, records, fates_of(positions, input, dead_records, business_records, outcomes), *log);
  return code == exit_code::ok && differ > 0 ? exit_code::failure : code;
}

}  // namespace kernel::detail
