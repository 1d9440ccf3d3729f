// kernel-admin: operate kernels' consumer groups and topics from the command line.
//
//   kernel-admin lag GROUP [--topic T]...
//   kernel-admin reset-offsets GROUP --topic T --to earliest|latest|OFFSET|DATETIME [--dry-run] [--force]
//   kernel-admin topic-stats TOPIC
//   kernel-admin dlq list|stats|replay TOPIC ... (dlq_commands.hpp)
//   kernel-admin pause|resume --kernel NAME [--topic T [--partition P]] [--reason TEXT] (fleet_commands.hpp)
//
// It reads KAFKA_BOOTSTRAP_SERVERS, TLS and SASL like a kernel does (same registry, same
// .env), but as a tool (RunMode::tool): the brokers are required and never `embedded`.
// Committed offsets are read and written by a consumer handle in the group that never
// subscribes, so it never joins the group nor moves anyone's partitions.
// Exit codes: 0 done, 64 usage, 69 brokers, group or topic unavailable (or refused), 77
// authentication or TLS refused, 78 configuration.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command_line.hpp"
#include "config/settings.hpp"
#include "connection.hpp"
#include "core/partition_list.hpp"
#include "core/rfc3339.hpp"
#include "dlq_commands.hpp"
#include "fleet_commands.hpp"
#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/exit_codes.hpp"
#include "log/logging.hpp"

namespace {

using namespace kernel::detail;
using nlohmann::json;

using kernel::tools::Connection;
using kernel::tools::Failure;
using kernel::tools::Overrides;

struct Options {
  int timeout_ms = 10000;
  bool json_output = false;
};

struct PartitionRow {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t committed = -1;  // -1: none
  std::int64_t low = -1, high = -1;
};

/// A member for a moment (reset-offsets on brokers that take commits only from members):
/// the eager assignor, whose close always leaves the group, and, should it vanish without
/// leaving, a session as short as brokers allow (6 s) rather than the kernel's.
const Overrides brief_member{{"partition.assignment.strategy", "range"},
                             {"session.timeout.ms", "6000"},
                             {"max.poll.interval.ms", "6000"},
                             {"heartbeat.interval.ms", "1000"}};

/// Partition ids of a topic, from the brokers' metadata. Throws Failure (69), also when the
/// topic does not exist. It asks for every topic: a request naming one topic lets a broker
/// that allows auto-creation create it, and some brokers do so even when the client says no.
std::vector<std::int32_t> partitions_of(Connection& connection, rd_kafka_t* client, const std::string& topic) {
  const auto& servers = connection.servers();
  const auto metadata = connection.metadata(client);
  const rd_kafka_metadata_topic_t* begin = metadata->topics;
  const rd_kafka_metadata_topic_t* end = begin + metadata->topic_cnt;
  const rd_kafka_metadata_topic_t* found = std::find_if(begin, end, [&](const auto& t) { return topic == t.topic; });
  if (found == end) {
    throw Failure{kernel::exit_code::unavailable, "topic " + topic + " does not exist on " + servers};
  }
  if (found->err || found->partition_cnt == 0) {
    throw Failure{kernel::exit_code::unavailable,
                  "topic " + topic + " is not available on " + servers + " (" + rd_kafka_err2str(found->err) + ")"};
  }
  std::vector<std::int32_t> out;
  for (int i = 0; i < found->partition_cnt; ++i) out.push_back(found->partitions[i].id);
  std::sort(out.begin(), out.end());
  return out;
}

/// Every topic the brokers know, internal ones (`__...`) left out.
std::vector<std::string> all_topics(Connection& connection, rd_kafka_t* client) {
  const auto metadata = connection.metadata(client);
  std::vector<std::string> out;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    std::string name = metadata->topics[i].topic;
    if (!name.starts_with("__")) out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Committed offsets (rd_kafka_committed) and watermarks (rd_kafka_query_watermark_offsets).
std::vector<PartitionRow> read_partitions(Connection& connection, rd_kafka_t* client, const std::string& topic,
                                          const Options& options) {
  const auto ids = partitions_of(connection, client, topic);
  std::vector<PartitionOffset> wanted;
  for (auto id : ids) wanted.push_back({topic, id});
  const auto list = make_partition_list(wanted);
  if (auto err = rd_kafka_committed(client, list.get(), options.timeout_ms)) {
    throw Failure{kernel::exit_code::unavailable,
                  "cannot read committed offsets: " + std::string(rd_kafka_err2str(err))};
  }
  std::vector<PartitionRow> rows;
  for (int i = 0; i < list->cnt; ++i) {
    PartitionRow row{topic, list->elems[i].partition, list->elems[i].offset < 0 ? -1 : list->elems[i].offset};
    if (auto err = rd_kafka_query_watermark_offsets(client, topic.c_str(), row.partition, &row.low, &row.high,
                                                    options.timeout_ms)) {
      throw Failure{kernel::exit_code::unavailable, "cannot read the watermarks of " + topic + "[" +
                                                        std::to_string(row.partition) + "]: " + rd_kafka_err2str(err)};
    }
    rows.push_back(row);
  }
  return rows;
}

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const auto pad = std::string(width[c] - cells[c].size(), ' ');
      text += c == 0 ? cells[c] + pad : "  " + pad + cells[c];  // numbers right-aligned
    }
    std::cout << text << '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
}

std::string number_or_dash(std::int64_t value) { return value < 0 ? "-" : std::to_string(value); }

/// What waits for the group on a partition: from its committed offset, or, with none, from
/// where the group would start there (KAFKA_CONSUMER_START_OFFSET: the low watermark for
/// earliest, the high one for latest), as a kernel of the group would start.
std::int64_t lag_of(const PartitionRow& row, kernel::StartOffset start) {
  const auto from = row.committed >= 0 ? row.committed : start == kernel::StartOffset::earliest ? row.low : row.high;
  return std::max<std::int64_t>(0, row.high - from);
}

int lag(Connection& connection, const std::string& group, std::vector<std::string> topics, const Options& options) {
  auto client = connection.consumer(group);
  const bool every_topic = topics.empty();
  if (every_topic) topics = all_topics(connection, client.get());
  std::vector<PartitionRow> rows;
  for (const auto& topic : topics) {
    auto partitions = read_partitions(connection, client.get(), topic, options);
    // Without --topic, show the topics the group has committed offsets for.
    const bool any = std::any_of(partitions.begin(), partitions.end(), [](auto& p) { return p.committed >= 0; });
    if (every_topic && !any) continue;
    rows.insert(rows.end(), partitions.begin(), partitions.end());
  }
  const auto start = connection.config().settings().start_offset;
  std::int64_t total = 0;
  std::size_t uncommitted = 0;
  json out = {{"group", group}, {"start_offset", std::string(kernel::to_string(start))}, {"partitions", json::array()}};
  std::vector<std::vector<std::string>> table;
  for (const auto& row : rows) {
    const auto lag = lag_of(row, start);
    total += lag;
    if (row.committed < 0) ++uncommitted;
    out["partitions"].push_back({{"topic", row.topic},
                                 {"partition", row.partition},
                                 {"committed", row.committed < 0 ? json(nullptr) : json(row.committed)},
                                 {"low", row.low},
                                 {"high", row.high},
                                 {"lag", lag}});
    table.push_back({row.topic, std::to_string(row.partition),
                     row.committed < 0 ? "nothing committed" : std::to_string(row.committed), std::to_string(row.low),
                     std::to_string(row.high), std::to_string(lag)});
  }
  out["total_lag"] = total;
  if (options.json_output) {
    std::cout << out.dump() << '\n';
  } else if (rows.empty()) {
    // Only without --topic (a named topic always has partitions): which topics the group reads
    // is its kernels' configuration, which the brokers know only from commits.
    std::cout << "group " << group
              << " has no committed offsets; name the topics its kernels read with --topic to see what waits "
                 "for it\n";
  } else {
    print_table({"TOPIC", "PARTITION", "COMMITTED", "LOW", "HIGH", "LAG"}, table);
    std::cout << "total lag " << total << " (group " << group << ")\n";
    if (uncommitted > 0) {
      const bool earliest = start == kernel::StartOffset::earliest;
      std::cout << kernel::detail::count_of(uncommitted, "partition") << " with nothing committed: counted from the "
                << (earliest ? "low" : "high")
                << " watermark, where KAFKA_CONSUMER_START_OFFSET=" << kernel::to_string(start) << " starts the group"
                << (earliest ? "" : " (what waits there now would be skipped)") << '\n';
    }
  }
  return kernel::exit_code::ok;
}

/// A date-time (core/rfc3339.hpp), or a date alone (2026-11-23: midnight UTC), to epoch
/// milliseconds. Throws Rfc3339Error.
std::int64_t parse_datetime(const std::string& text) {
  return parse_rfc3339(text.size() == 10 ? text + "T00:00:00Z" : text);
}

/// Where reset-offsets moves each partition, from --to.
struct ResetTarget {
  enum class Kind { earliest, latest, offset, time } kind = Kind::earliest;
  std::int64_t value = 0;  ///< the offset, or the time in epoch milliseconds
};

/// Reads --to before anything connects. Throws Failure (64) naming what is accepted.
ResetTarget parse_reset_target(const std::string& to) {
  if (to == "earliest") return {ResetTarget::Kind::earliest};
  if (to == "latest") return {ResetTarget::Kind::latest};
  if (!to.empty() && to.find_first_not_of("0123456789") == std::string::npos) {
    const auto offset = kernel::tools::parse_whole_number(to, 0, std::numeric_limits<std::int64_t>::max());
    if (!offset) {
      throw Failure{kernel::exit_code::usage, "--to " + to + ": an offset is at most " +
                                                  std::to_string(std::numeric_limits<std::int64_t>::max())};
    }
    return {ResetTarget::Kind::offset, *offset};
  }
  try {
    return {ResetTarget::Kind::time, parse_datetime(to)};
  } catch (const Rfc3339Error& error) {
    // A date (`2026-...`) gets the parser's own reason; anything else what --to takes.
    if (to.size() > 4 && to[4] == '-') throw Failure{kernel::exit_code::usage, std::string("--to: ") + error.what()};
  }
  throw Failure{kernel::exit_code::usage, "--to " + to +
                                              ": expected earliest, latest, an offset (0 or more), or a "
                                              "date-time like 2026-11-23T03:00:00Z"};
}

/// Finds offsets by message timestamps, for brokers that cannot look them up: a binary
/// search over each partition that reads one message per probe, so at most about
/// log2(messages) + 1 reads per partition, each bounded by --timeout.
class TimestampSearch {
 public:
  TimestampSearch(HandlePtr reader, const Options& options) : reader_(std::move(reader)), options_(options) {}

  /// The first offset from which every message read has a timestamp at or after `when`
  /// (the end when there is none). Timestamps are taken to grow with offsets, as they do
  /// when clients or brokers stamp messages as they are written.
  std::int64_t first_at_or_after(const PartitionRow& row, std::int64_t when) {
    // Invariant: the answer lies in [low, high], and `high` qualifies.
    std::int64_t low = row.low, high = row.high;
    while (low < high) {
      const auto middle = low + (high - low) / 2;
      const auto found = first_message_from(row, middle);
      if (!found || found->offset >= high || found->timestamp >= when) {
        high = middle;
      } else {
        low = found->offset + 1;  // everything up to that message is older
      }
    }
    return low;
  }

  int reads() const { return reads_; }

 private:
  struct Found {
    std::int64_t offset;
    std::int64_t timestamp;
  };

  /// The first message at or after `offset`, or nullopt at the end of the partition.
  std::optional<Found> first_message_from(const PartitionRow& row, std::int64_t offset) {
    ++reads_;
    PartitionListPtr assignment(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(assignment.get(), row.topic.c_str(), row.partition)->offset = offset;
    if (auto err = rd_kafka_assign(reader_.get(), assignment.get())) {
      throw Failure{kernel::exit_code::unavailable, "cannot read " + where(row) + ": " + rd_kafka_err2str(err)};
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      MessagePtr message(rd_kafka_consumer_poll(reader_.get(), 100));
      if (!message || message->partition != row.partition) continue;
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return std::nullopt;
      if (message->err) {
        throw Failure{kernel::exit_code::unavailable,
                      "cannot read " + where(row) + ": " + rd_kafka_message_errstr(message.get())};
      }
      if (message->offset < offset) continue;  // fetched before this assignment
      const auto timestamp = rd_kafka_message_timestamp(message.get(), nullptr);
      if (timestamp < 0) {
        throw Failure{kernel::exit_code::unavailable, where(row) +
                                                          " holds messages without timestamps; use "
                                                          "earliest, latest or an offset instead"};
      }
      return Found{message->offset, timestamp};
    }
    throw Failure{kernel::exit_code::unavailable, "no message read from " + where(row) + " at offset " +
                                                      std::to_string(offset) + " within " +
                                                      std::to_string(options_.timeout_ms) + " ms"};
  }

  static std::string where(const PartitionRow& row) { return row.topic + "[" + std::to_string(row.partition) + "]"; }

  HandlePtr reader_;
  const Options& options_;
  int reads_ = 0;
};

/// Where each partition goes for `to`. `make_reader` gives a client for reading messages
/// (needed only when the brokers cannot look offsets up by time).
std::vector<std::int64_t> targets(rd_kafka_t* client, const std::vector<PartitionRow>& rows, const ResetTarget& to,
                                  const Options& options, const std::function<HandlePtr()>& make_reader) {
  std::vector<std::int64_t> out;
  switch (to.kind) {
    case ResetTarget::Kind::earliest:
    case ResetTarget::Kind::latest:
      for (const auto& row : rows) out.push_back(to.kind == ResetTarget::Kind::earliest ? row.low : row.high);
      return out;
    case ResetTarget::Kind::offset:
      for (const auto& row : rows) out.push_back(std::clamp<std::int64_t>(to.value, row.low, row.high));
      return out;
    case ResetTarget::Kind::time: break;
  }
  const auto when = to.value;
  auto ask = [&](std::int64_t timestamp) {
    PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(rows.size())));
    for (const auto& row : rows) {
      rd_kafka_topic_partition_list_add(list.get(), row.topic.c_str(), row.partition)->offset = timestamp;
    }
    if (auto err = rd_kafka_offsets_for_times(client, list.get(), options.timeout_ms)) {
      throw Failure{kernel::exit_code::unavailable, "offsets for times failed: " + std::string(rd_kafka_err2str(err))};
    }
    std::vector<std::int64_t> offsets;
    for (int i = 0; i < list->cnt; ++i) offsets.push_back(list->elems[i].offset);
    return offsets;
  };
  // A broker that can look up offsets by time finds the first message of a non-empty
  // partition for time 0; one that cannot (the development broker) answers -1 everywhere.
  const auto probe = ask(0);
  bool by_time = true;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].high > rows[i].low && probe[i] < 0) by_time = false;
  }
  if (!by_time) {
    TimestampSearch search(make_reader(), options);
    for (const auto& row : rows) out.push_back(search.first_at_or_after(row, when));
    std::cerr << "kernel-admin: the brokers cannot look up offsets by time (ListOffsets by timestamp answered -1); "
                 "found the offsets by reading message timestamps instead ("
              << kernel::detail::count_of(static_cast<std::size_t>(search.reads()), "message")
              << " read, assuming timestamps grow with offsets)\n";
    return out;
  }
  out = ask(when);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (out[i] < 0) out[i] = rows[i].high;  // nothing at or after that time: the end
  }
  return out;
}

/// Whether the group has members: true/false, or nullopt when the brokers cannot tell.
std::optional<int> group_members(rd_kafka_t* client, const std::string& group, const Options& options,
                                 std::string& why) {
  const rd_kafka_group_list* raw = nullptr;
  const auto err = rd_kafka_list_groups(client, group.c_str(), &raw, options.timeout_ms);
  const kernel::detail::GroupListPtr list(raw);
  if (err) {
    why = rd_kafka_err2str(err);
    return std::nullopt;
  }
  for (int i = 0; i < list->group_cnt; ++i) {
    const auto& info = list->groups[i];
    if (group != info.group) continue;
    if (info.err) {
      why = rd_kafka_err2str(info.err);
      return std::nullopt;
    }
    return info.member_cnt;
  }
  return 0;  // unknown to the coordinator: no members
}

/// Subscribes to `topic`, waits for the assignment, commits `offsets`, leaves.
rd_kafka_resp_err_t commit_as_member(rd_kafka_t* client, const std::string& topic,
                                     rd_kafka_topic_partition_list_t* offsets, const Options& options) {
  PartitionListPtr topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(client, topics.get())) return err;
  // The default rebalance handling assigns what the group gives; nothing here reads messages.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms) * 3;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
  while (std::chrono::steady_clock::now() < deadline) {
    MessagePtr message(rd_kafka_consumer_poll(client, 100));
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(client, &raw) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      PartitionListPtr assignment(raw);
      if (assignment->cnt > 0) {
        err = rd_kafka_commit(client, offsets, 0);
        break;
      }
    }
  }
  // Leave explicitly and let the unassignment finish before closing: librdkafka 2.0.2 may
  // skip the LeaveGroup when close itself has to unsubscribe, and the group would then wait
  // for this member's session to time out before anyone else can join.
  rd_kafka_unsubscribe(client);
  const auto leave_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < leave_deadline) {
    MessagePtr message(rd_kafka_consumer_poll(client, 50));
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(client, &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) break;
    PartitionListPtr assignment(raw);
    if (assignment->cnt == 0) break;
  }
  rd_kafka_consumer_close(client);
  return err;
}

int reset_offsets(Connection& connection, const std::string& group, const std::string& topic, const ResetTarget& to,
                  bool dry_run, bool force, const Options& options) {
  auto client = connection.consumer(group);
  const auto rows = read_partitions(connection, client.get(), topic, options);
  const auto wanted = targets(client.get(), rows, to, options, [&] {
    // Reads single messages: report the end of a partition, fetch little, never wait long.
    return connection.consumer(
        "kernel-admin",
        {{"enable.partition.eof", "true"}, {"fetch.message.max.bytes", "1"}, {"fetch.wait.max.ms", "10"}});
  });

  std::vector<std::vector<std::string>> table;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    table.push_back({rows[i].topic, std::to_string(rows[i].partition), number_or_dash(rows[i].committed),
                     std::to_string(wanted[i])});
  }
  print_table({"TOPIC", "PARTITION", "COMMITTED", "NEW"}, table);
  if (dry_run) {
    std::cout << "dry run: nothing committed\n";
    return kernel::exit_code::ok;
  }

  std::string why;
  const auto members = group_members(client.get(), group, options, why);
  if (members && *members > 0) {
    throw Failure{kernel::exit_code::unavailable,
                  "group " + group + " has " + std::to_string(*members) +
                      " active member(s): stop its kernels first (they would overwrite the offsets)"};
  }
  if (!members && !force) {
    throw Failure{kernel::exit_code::unavailable, "cannot tell whether group " + group + " has members (" + why +
                                                      "); stop its kernels, then run again with --force"};
  }
  if (!members) std::cerr << "kernel-admin: the brokers cannot list group members (" << why << "); --force given\n";

  std::vector<PartitionOffset> offsets;
  for (std::size_t i = 0; i < rows.size(); ++i) offsets.push_back({topic, rows[i].partition, wanted[i]});
  const auto list = make_partition_list(offsets);
  // An explicit list from a handle that never joined: a plain offset commit for the group.
  auto err = rd_kafka_commit(client.get(), list.get(), 0);
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID) {
    // Some brokers (the development broker among them) accept commits for a group they know
    // only from a member: join it briefly, alone, and commit as that member.
    std::cerr << "kernel-admin: the brokers take commits for group " << group
              << " only from a member; joining it briefly to commit\n";
    auto member = connection.consumer(group, brief_member);
    err = commit_as_member(member.get(), topic, list.get(), options);
  }
  if (err) {
    throw Failure{kernel::exit_code::unavailable, "commit refused: " + std::string(rd_kafka_err2str(err))};
  }
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err) {
      throw Failure{kernel::exit_code::unavailable, "commit refused for " + topic + "[" +
                                                        std::to_string(list->elems[i].partition) +
                                                        "]: " + rd_kafka_err2str(list->elems[i].err)};
    }
  }
  std::cout << "committed new offsets for group " << group << " on " << topic << '\n';
  return kernel::exit_code::ok;
}

int topic_stats(Connection& connection, const std::string& topic, const Options& options) {
  auto client = connection.consumer("kernel-admin");
  std::int64_t total = 0;
  json out = {{"topic", topic}, {"partitions", json::array()}};
  std::vector<std::vector<std::string>> table;
  for (auto id : partitions_of(connection, client.get(), topic)) {
    std::int64_t low = -1, high = -1;
    if (auto err = rd_kafka_query_watermark_offsets(client.get(), topic.c_str(), id, &low, &high, options.timeout_ms)) {
      throw Failure{kernel::exit_code::unavailable, "cannot read the watermarks of " + topic + "[" +
                                                        std::to_string(id) + "]: " + rd_kafka_err2str(err)};
    }
    total += high - low;
    out["partitions"].push_back({{"partition", id}, {"low", low}, {"high", high}, {"messages", high - low}});
    table.push_back({std::to_string(id), std::to_string(low), std::to_string(high), std::to_string(high - low)});
  }
  out["messages"] = total;
  if (options.json_output) {
    std::cout << out.dump() << '\n';
  } else {
    print_table({"PARTITION", "LOW", "HIGH", "MESSAGES"}, table);
    std::cout << topic << ": " << kernel::detail::count_of(table.size(), "partition") << ", "
              << kernel::detail::count_of(static_cast<std::size_t>(total), "message") << " held\n";
  }
  return kernel::exit_code::ok;
}

}  // namespace

int main(int argc, char** argv) {
  // Named here: CLI11 would otherwise take argv[0], the path it was run by, for its usage line.
  CLI::App app{
      "kernel-admin: consumer lag, offset resets, topic statistics, dead letters (list, count, replay) "
      "and fleet-wide pause and resume for kernels' groups and topics. Reads KAFKA_BOOTSTRAP_SERVERS, TLS and SASL settings like a kernel "
      "(environment, then ./.env).",
      "kernel-admin"};
  app.require_subcommand(1);
  Options options;
  app.add_option("--timeout", options.timeout_ms, "Milliseconds to wait for the brokers per request")
      ->transform(kernel::tools::whole_number(1, 3'600'000, "milliseconds"))
      ->default_val(10000);
  app.add_flag("--json", options.json_output,
               "lag, topic-stats, dlq list and dlq stats: JSON instead of tables (as their own --json)");

  std::string group, topic, to;
  std::vector<std::string> topics;
  bool dry_run = false, force = false;
  auto* lag_cmd = app.add_subcommand("lag", "Committed offset, watermarks and lag per partition, and the total");
  lag_cmd->add_option("GROUP", group, "Consumer group (a kernel's KAFKA_CONSUMER_GROUP)")->required();
  lag_cmd->add_option("--topic", topics, "Only this topic (repeatable); default: every topic the group committed on");

  auto* reset_cmd = app.add_subcommand("reset-offsets", "Move a stopped group's committed offsets on a topic");
  reset_cmd->add_option("GROUP", group, "Consumer group")->required();
  reset_cmd->add_option("--topic", topic, "Topic")->required();
  reset_cmd->add_option("--to", to, "earliest, latest, an offset, or a date-time (2026-11-23T03:00:00Z)")->required();
  reset_cmd->add_flag("--dry-run", dry_run, "Show the new offsets and commit nothing");
  reset_cmd->add_flag("--force", force, "Commit even when the brokers cannot tell whether the group has members");

  auto* stats_cmd = app.add_subcommand("topic-stats", "Partitions, watermarks and messages held");
  stats_cmd->add_option("TOPIC", topic, "Topic")->required();
  kernel::tools::DlqCommands dlq(app);
  kernel::tools::FleetCommandLine fleet(app);
  app.footer(
      "Exit codes: 0 done, 64 usage, 69 brokers/group/topic unavailable or reset/replay refused, 77 "
      "authentication or TLS refused, 78 configuration.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return kernel::tools::report_parse_error(app, error, "kernel-admin");
  }
  if (dlq.chosen()) {
    if (const int code = dlq.check_arguments()) return code;
  }
  if (fleet.chosen()) {
    if (const int code = fleet.check_arguments()) return code;
  }
  ResetTarget target;
  try {
    if (*reset_cmd) target = parse_reset_target(to);
  } catch (const Failure& failure) {
    std::cerr << "kernel-admin: " << failure.message << '\n';
    return failure.code;
  }

  std::optional<kernel::Config> config;
  try {
    // Loaded like a kernel's, so the same variables (and their checks) apply, but as a tool's:
    // the brokers must be the kernels' own. The topic is a placeholder, never used.
    config.emplace(kernel::Config::load(kernel::KernelDefaults{"kernel-admin", {"kernel-admin.unused"}, std::nullopt},
                                        kernel::process_environment(), kernel::RunMode::tool));
  } catch (const kernel::ConfigError& error) {
    for (const auto& problem : error.problems()) std::cerr << problem << '\n';
    return kernel::exit_code::config;
  }

  try {
    if (dlq.chosen()) return dlq.run(*config, options.timeout_ms, options.json_output);
    if (fleet.chosen()) return fleet.run(*config, options.timeout_ms, options.json_output);
    Connection connection(*config, options.timeout_ms);
    if (*lag_cmd) return lag(connection, group, topics, options);
    if (*reset_cmd) return reset_offsets(connection, group, topic, target, dry_run, force, options);
    return topic_stats(connection, topic, options);
  } catch (const Failure& failure) {
    std::cerr << "kernel-admin: " << failure.message << '\n';
    return failure.code;
  }
}
