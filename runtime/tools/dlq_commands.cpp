#include "dlq_commands.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "command_line.hpp"
#include "dlq_display.hpp"
#include "dlq_filter.hpp"
#include "dlq_reading.hpp"
#include "dlq_replay.hpp"
#include "kernel/run.hpp"
#include "log/logging.hpp"

namespace kernel::tools {

using namespace dlq;

struct DlqCommands::State {
  CLI::App* dlq = nullptr;
  CLI::App* list = nullptr;
  CLI::App* stats = nullptr;
  CLI::App* replay = nullptr;

  std::string topic, to, since, until;
  std::vector<std::string> reasons;
  std::optional<std::string> key;
  long long limit = 0;  // 0: no limit
  bool json = false, dry_run = false, again = false;
  Filter filter;
};

namespace {

/// The --reason, --key, --since and --until options every dlq command takes.
void add_filters(CLI::App* command, std::vector<std::string>& reasons, std::optional<std::string>& key,
                 std::string& since, std::string& until) {
  command->add_option("--reason", reasons, "Only this dlq-failure-reason (repeatable: any of them)");
  command->add_option("--key", key, "Only records with exactly this key");
  command->add_option("--since", since, "Only records dead-lettered at or after TIME (RFC 3339, or 30m, 2h, 7d ago)");
  command->add_option("--until", until, "Only records dead-lettered at or before TIME (RFC 3339, or 30m, 2h, 7d ago)");
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Rows printed in aligned columns as they come, a block at a time, so that a long listing
/// neither waits for the end nor holds everything in memory. Widths only grow.
class ColumnPrinter {
 public:
  explicit ColumnPrinter(std::vector<std::string> header) : width_(header.size(), 0) {
    rows_.push_back(std::move(header));
  }
  ~ColumnPrinter() { flush(); }
  ColumnPrinter(const ColumnPrinter&) = delete;
  ColumnPrinter& operator=(const ColumnPrinter&) = delete;

  void add(std::vector<std::string> row) {
    rows_.push_back(std::move(row));
    if (rows_.size() >= 500) flush();
  }
  void flush() {
    for (const auto& row : rows_) {
      for (std::size_t c = 0; c + 1 < row.size(); ++c) width_[c] = std::max(width_[c], row[c].size());
    }
    for (const auto& row : rows_) {
      std::string line;
      for (std::size_t c = 0; c < row.size(); ++c) {
        line += row[c];
        if (c + 1 < row.size()) line += std::string(width_[c] - row[c].size() + 2, ' ');
      }
      std::cout << line << '\n';
    }
    rows_.clear();
    std::cout.flush();
  }

 private:
  std::vector<std::size_t> width_;
  std::vector<std::vector<std::string>> rows_;
};

/// A reader outside any group's business (it never subscribes nor commits), over the whole topic.
struct TopicReading {
  detail::HandlePtr reader;
  std::optional<Scan> scan;

  TopicReading(Connection& connection, const std::string& topic) : reader(dlq::reader(connection, "kernel-admin")) {
    scan.emplace(connection, reader.get(), topic, ranges(connection, reader.get(), topic));
    scan->assign_in_order();
  }
};

int list(Connection& connection, const std::string& topic, const Filter& filter, long long limit, bool json) {
  TopicReading reading(connection, topic);
  long long shown = 0;
  std::optional<ColumnPrinter> table;
  if (!json) {
    table.emplace(std::vector<std::string>{"PARTITION", "OFFSET", "KEY", "FAILED-AT", "ORIGINAL", "REASON",
                                           "ERROR-TYPE", "ERROR-MESSAGE"});
  }
  reading.scan->run([&](const jsonl::Record& record, const rd_kafka_message_t&) {
    if (filter.judge(record) != Verdict::take) return true;
    ++shown;
    if (json) {
      std::cout << jsonl::format(record) << '\n';
    } else {
      const auto failed = failed_at_ms(record);
      const auto original = header_of(record, "dlq-original-topic");
      auto shown = [&](std::string_view header, std::string_view missing) {
        const auto value = header_of(record, header);
        return value ? show_text(*value) : std::string(missing);
      };
      table->add({std::to_string(record.partition.value_or(-1)), std::to_string(record.offset), show_key(record.key),
                  failed ? jsonl::format_timestamp(*failed) : "-",
                  original ? show_text(*original) + "[" + shown("dlq-original-partition", "?") + "]@" +
                                 shown("dlq-original-offset", "?")
                           : "-",
                  shown("dlq-failure-reason", "-"), shown("dlq-error-type", "-"),
                  show_text(header_of(record, "dlq-error-message").value_or("-"), 80)});
    }
    return limit == 0 || shown < limit;
  });
  if (table) table->flush();
  std::cout.flush();
  if (!json) {
    std::cerr << topic << ": " << detail::count_of(static_cast<std::size_t>(shown), "dead letter") << " shown of "
              << reading.scan->total() << " held\n";
  }
  return exit_code::ok;
}

int stats(Connection& connection, const std::string& topic, const Filter& filter, bool json) {
  TopicReading reading(connection, topic);
  std::map<std::string, long long> by_reason, by_topic, by_type;
  std::optional<std::int64_t> oldest, newest;
  long long count = 0;
  reading.scan->run([&](const jsonl::Record& record, const rd_kafka_message_t&) {
    if (filter.judge(record) != Verdict::take) return true;
    ++count;
    ++by_reason[header_of(record, "dlq-failure-reason").value_or("-")];
    ++by_topic[header_of(record, "dlq-original-topic").value_or("-")];
    ++by_type[header_of(record, "dlq-error-type").value_or("-")];
    if (const auto when = failed_at_ms(record)) {
      oldest = std::min(oldest.value_or(*when), *when);
      newest = std::max(newest.value_or(*when), *when);
    }
    return true;
  });
  auto stamp = [](const std::optional<std::int64_t>& when) {
    return when ? nlohmann::json(jsonl::format_timestamp(*when)) : nlohmann::json(nullptr);
  };
  if (json) {
    nlohmann::ordered_json out = {{"topic", topic},          {"dead_letters", count},  {"oldest", stamp(oldest)},
                                  {"newest", stamp(newest)}, {"by_reason", by_reason}, {"by_original_topic", by_topic},
                                  {"by_error_type", by_type}};
    if (!filter.canonical().empty()) out["filter"] = filter.canonical();
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return exit_code::ok;
  }
  std::cout << topic << ": " << detail::count_of(static_cast<std::size_t>(count), "dead letter")
            << (filter.canonical().empty() ? "" : " matching " + show_text(filter.canonical()));
  if (oldest)
    std::cout << ", oldest " << jsonl::format_timestamp(*oldest) << ", newest " << jsonl::format_timestamp(*newest);
  std::cout << '\n';
  for (const auto& [title, counts] :
       {std::pair{"REASON", &by_reason}, std::pair{"ORIGINAL-TOPIC", &by_topic}, std::pair{"ERROR-TYPE", &by_type}}) {
    if (counts->empty()) continue;
    std::vector<std::pair<std::string, long long>> rows(counts->begin(), counts->end());
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::cout << '\n';
    ColumnPrinter table({title, "COUNT"});
    for (const auto& [name, n] : rows) table.add({show_text(name), std::to_string(n)});
  }
  return exit_code::ok;
}

}  // namespace

DlqCommands::DlqCommands(CLI::App& app) : state_(std::make_unique<State>()) {
  auto& s = *state_;
  s.dlq = app.add_subcommand("dlq", "Dead letters: list, count and replay them (see docs/dead-letters.md)");
  // No require_subcommand(): CLI11 would then answer "A subcommand is required" even to a
  // misspelt one; check_arguments() says which ones there are instead.

  s.list = s.dlq->add_subcommand("list", "One line per dead letter: where it came from, why it failed");
  s.list->add_option("TOPIC", s.topic, "Dead-letter topic (KAFKA_TOPIC_PREFIX applies)")->required();
  add_filters(s.list, s.reasons, s.key, s.since, s.until);
  s.list->add_option("--limit", s.limit, "Show at most N dead letters")
      ->transform(whole_number(1, std::numeric_limits<std::int64_t>::max(), "records"));
  s.list->add_flag("--json", s.json, "Each record as a JSON line, headers included (the samples format)");

  s.stats = s.dlq->add_subcommand("stats", "Dead letters by reason, original topic and error type; oldest, newest");
  s.stats->add_option("TOPIC", s.topic, "Dead-letter topic (KAFKA_TOPIC_PREFIX applies)")->required();
  add_filters(s.stats, s.reasons, s.key, s.since, s.until);
  s.stats->add_flag("--json", s.json, "One JSON object instead of tables");

  s.replay = s.dlq->add_subcommand("replay", "Send dead letters back as they were, once");
  s.replay->add_option("TOPIC", s.topic, "Dead-letter topic (KAFKA_TOPIC_PREFIX applies)")->required();
  s.replay->add_option("--to", s.to,
                       "Send to this topic instead of each record's dlq-original-topic "
                       "(KAFKA_TOPIC_PREFIX applies)");
  add_filters(s.replay, s.reasons, s.key, s.since, s.until);
  s.replay->add_flag("--dry-run", s.dry_run, "Show what would be sent; send and remember nothing");
  s.replay->add_flag("--again", s.again, "Also send what an earlier identical replay already sent");
}

DlqCommands::~DlqCommands() = default;

bool DlqCommands::chosen() const { return state_->dlq->parsed(); }

int DlqCommands::check_arguments() {
  auto& s = *state_;
  try {
    if (!s.list->parsed() && !s.stats->parsed() && !s.replay->parsed()) {
      throw Failure{exit_code::usage, "dlq: expected a command: list, stats or replay (see --help)"};
    }
    for (const auto& [option, name] : {std::pair{"TOPIC", &s.topic}, std::pair{"--to", &s.to}}) {
      if (name->empty() && std::string_view(option) == "--to") continue;
      if (const auto problem = topic_name_problem(*name); !problem.empty()) {
        throw Failure{exit_code::usage, std::string(option) + " \"" + *name + "\": " + problem};
      }
    }
    s.filter.reasons = s.reasons;
    s.filter.key = s.key;
    s.filter.check();
    const auto now = now_ms();
    if (!s.since.empty()) s.filter.since = parse_time_argument("--since", s.since, now);
    if (!s.until.empty()) s.filter.until = parse_time_argument("--until", s.until, now);
  } catch (const Failure& failure) {
    std::cerr << "kernel-admin: " << failure.message << '\n';
    return failure.code;
  }
  return exit_code::ok;
}

int DlqCommands::run(const Config& config, int timeout_ms, bool json) {
  auto& s = *state_;
  // Names typed here get the prefix, as every name a kernel uses does; dlq-original-topic is
  // a full name already.
  const auto& prefix = config.settings().topic_prefix;
  const auto topic = prefix + s.topic;
  try {
    Connection connection(config, timeout_ms);
    if (s.list->parsed()) return list(connection, topic, s.filter, s.limit, json || s.json);
    if (s.stats->parsed()) return stats(connection, topic, s.filter, json || s.json);
    return replay(connection, {topic, s.to.empty() ? "" : prefix + s.to, s.filter, s.dry_run, s.again});
  } catch (const Failure& failure) {
    std::cout.flush();
    std::cerr << "kernel-admin: " << failure.message << '\n';
    return failure.code;
  }
}

}  // namespace kernel::tools
