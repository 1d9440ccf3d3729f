#include "dlq_replay.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "command_line.hpp"
#include "dlq_display.hpp"
#include "kernel/run.hpp"
#include "log/logging.hpp"

namespace kernel::tools::dlq {

using namespace kernel::detail;
using Clock = std::chrono::steady_clock;

namespace {

/// The replay's consumer is a member of its group only while it runs: the eager assignor,
/// whose close always leaves the group, and, should the process die, a short session so
/// that the next replay need not wait long for its partitions.
const Overrides member = {{"partition.assignment.strategy", "range"},
                          {"session.timeout.ms", "6000"},
                          {"heartbeat.interval.ms", "1000"},
                          {"max.poll.interval.ms", "60000"}};

constexpr auto commit_interval = std::chrono::seconds(1);
constexpr auto progress_interval = std::chrono::milliseconds(500);
constexpr auto progress_after = std::chrono::seconds(1);

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Replayer {
 public:
  Replayer(Connection& connection, const ReplayRequest& request)
      : connection_(connection),
        request_(request),
        group_(replay_group(request.source, request.target, request.filter)),
        started_(Clock::now()),
        show_progress_(isatty(STDERR_FILENO) == 1) {}

  ~Replayer() {
    // The clients go first, while what their callbacks reach still exists.
    connection_.on_rebalance(nullptr);
    producer_.reset();
    reader_.reset();
  }
  Replayer(const Replayer&) = delete;
  Replayer& operator=(const Replayer&) = delete;

  int run() {
    if (request_.dry_run) {
      // Reads what the group remembers and nothing more: it neither joins nor commits.
      reader_ = reader(connection_, group_);
    } else {
      reader_ = reader(connection_, group_, member);
      connection_.on_rebalance([this](rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list) {
        rebalanced(rk, err, list);
      });
    }
    topics_ = connection_.topics(reader_.get());
    scan_.emplace(connection_, reader_.get(), request_.source, ranges(connection_, reader_.get(), request_.source));
    if (!request_.target.empty() && !topics_.contains(request_.target)) {
      throw Failure{exit_code::unavailable,
                    "topic " + request_.target + " (--to) does not exist on " + connection_.servers()};
    }
    if (request_.dry_run || scan_->total() == 0) {
      // An empty topic needs no membership: there is nothing to send nor to remember.
      read_remembered();
      scan_->assign_in_order();
    } else {
      join_group();
      read_remembered();
      resume_all();
      producer_ = connection_.producer(&Replayer::on_delivery);
    }

    try {
      scan_->run([this](const jsonl::Record& record, const rd_kafka_message_t& raw) { return take(record, raw); },
                 [this] {
                   serve();
                   return !stopping();
                 });
    } catch (const Failure& failure) {
      if (failure_.empty()) failure_ = failure.message, failure_code_ = failure.code;
    }
    if (producer_) finish();
    clear_progress();
    if (!failure_.empty()) {
      std::cout << summary() << '\n';
      throw Failure{failure_code_, failure_};
    }
    std::cout << summary() << '\n';
    return exit_code::ok;
  }

 private:
  /// A record sent and not yet known to be stored; its address is the message's opaque.
  struct Sent {
    Replayer* owner;
    std::int64_t offset;
    bool acknowledged = false;
  };

  /// One dead-letter partition: what may be committed for it.
  struct Progress {
    std::int64_t remembered = -1;  ///< the group's committed offset at start (-1: none)
    std::int64_t considered = -1;  ///< after the last record dealt with (-1: none yet)
    std::deque<Sent> sent;         ///< deque: addresses survive push_back and pop_front
    bool held = false;             ///< reached a record newer than --until <duration>
    std::int64_t committed = -1;

    /// Everything below it is replayed and acknowledged, or not to be replayed.
    std::int64_t commit_point() {
      while (!sent.empty() && sent.front().acknowledged) sent.pop_front();
      return sent.empty() ? considered : sent.front().offset;
    }
  };

  void rebalanced(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list) {
    if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (!leaving_ && assigned_ && !lost_) {
        // Taken away mid-replay (another member joined): remember what is stored while the
        // partitions are still ours, so that the next run resends as little as possible.
        const bool failed_before = !failure_.empty();
        if (producer_) rd_kafka_flush(producer_.get(), connection_.timeout_ms());
        commit();
        lost_ = true;
        if (!failed_before) failure_ = rebalanced_message();  // over a refused commit: the cause
      }
      rd_kafka_assign(rk, nullptr);
      return;
    }
    // Every partition from its beginning, paused until the whole topic is known to be ours.
    for (int i = 0; i < list->cnt; ++i) list->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, list);
    rd_kafka_pause_partitions(rk, list);
    assigned_ = list->cnt;
  }

  /// Joins the group and checks it holds every partition: two identical replays at once
  /// would each get a part, and each count the other's records as skipped.
  void join_group() {
    refuse_if_running();
    PartitionListPtr topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), request_.source.c_str(), RD_KAFKA_PARTITION_UA);
    if (auto err = rd_kafka_subscribe(reader_.get(), topics.get())) {
      throw Failure{exit_code::unavailable, "cannot join group " + group_ + ": " + rd_kafka_err2str(err)};
    }
    // Joining takes a few seconds on most brokers (group.initial.rebalance.delay.ms).
    const auto deadline = Clock::now() + std::chrono::milliseconds(connection_.timeout_ms()) * 3;
    while (!assigned_ && Clock::now() < deadline) {
      MessagePtr nothing(rd_kafka_consumer_poll(reader_.get(), 100));  // paused: no message comes
      connection_.check_refusal();
    }
    if (!assigned_) {
      throw Failure{exit_code::unavailable, "could not join group " + group_ + " on " + connection_.servers() +
                                                " within " + std::to_string(3 * connection_.timeout_ms()) + " ms"};
    }
    if (*assigned_ != static_cast<int>(scan_->ranges().size())) {
      leave_group();
      throw Failure{exit_code::unavailable, "group " + group_ +
                                                " has another member: is the same replay running? "
                                                "Let it finish, then run again"};
    }
  }

  /// Brokers that can list group members tell before joining whether the same replay is
  /// running, so that joining does not take its partitions away; others cannot (the
  /// development broker among them), and join_group() finds out by the assignment instead.
  void refuse_if_running() {
    const rd_kafka_group_list* raw = nullptr;
    if (rd_kafka_list_groups(reader_.get(), group_.c_str(), &raw, connection_.timeout_ms())) return;
    std::unique_ptr<const rd_kafka_group_list, void (*)(const rd_kafka_group_list*)> list(raw,
                                                                                          rd_kafka_group_list_destroy);
    for (int i = 0; i < list->group_cnt; ++i) {
      if (group_ == list->groups[i].group && list->groups[i].member_cnt > 0) {
        throw Failure{exit_code::unavailable, "group " + group_ + " has " + std::to_string(list->groups[i].member_cnt) +
                                                  " active member(s): is the same replay running? Let it finish, "
                                                  "then run again"};
      }
    }
  }

  void resume_all() {
    PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(scan_->ranges().size())));
    for (const auto& range : scan_->ranges()) {
      rd_kafka_topic_partition_list_add(list.get(), request_.source.c_str(), range.partition);
    }
    rd_kafka_resume_partitions(reader_.get(), list.get());
  }

  void leave_group() {
    // Leave explicitly and let the revocation finish before closing: librdkafka 2.0.2 may skip
    // the LeaveGroup when close itself has to unsubscribe.
    leaving_ = true;
    rd_kafka_unsubscribe(reader_.get());
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline) {
      MessagePtr message(rd_kafka_consumer_poll(reader_.get(), 50));
      rd_kafka_topic_partition_list_t* raw = nullptr;
      if (rd_kafka_assignment(reader_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) break;
      PartitionListPtr assignment(raw);
      if (assignment->cnt == 0) break;
    }
    rd_kafka_consumer_close(reader_.get());
  }

  /// The offsets the group committed: below them, records matching the filters were sent.
  void read_remembered() {
    PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(scan_->ranges().size())));
    for (const auto& range : scan_->ranges()) {
      rd_kafka_topic_partition_list_add(list.get(), request_.source.c_str(), range.partition);
    }
    if (auto err = rd_kafka_committed(reader_.get(), list.get(), connection_.timeout_ms())) {
      throw Failure{exit_code::unavailable,
                    "cannot read what group " + group_ + " remembers: " + rd_kafka_err2str(err)};
    }
    for (int i = 0; i < list->cnt; ++i) {
      auto& progress = progress_[list->elems[i].partition];
      progress.remembered = list->elems[i].offset < 0 ? -1 : list->elems[i].offset;
      progress.committed = progress.remembered;
    }
  }

  bool stopping() const { return !failure_.empty() || lost_; }

  /// Decides what happens to one dead letter.
  bool take(const jsonl::Record& record, const rd_kafka_message_t& raw) {
    if (stopping()) return false;
    auto& progress = progress_[raw.partition];
    if (progress.held) {
      ++held_;
      return true;
    }
    switch (request_.filter.judge(record)) {
      case Verdict::not_yet:
        // Newer than --until <duration>: it and what follows qualify later, so the group's
        // position stays before it.
        progress.held = true;
        ++held_;
        return true;
      case Verdict::excluded:
        ++skipped_;
        progress.considered = raw.offset + 1;
        return true;
      case Verdict::take: break;
    }
    if (!request_.again && raw.offset < progress.remembered) {
      ++already_;
      progress.considered = raw.offset + 1;
      return true;
    }
    const auto original = header_of(record, "dlq-original-topic");
    const auto target = request_.target.empty() ? original : request_.target;
    if (!target) {
      ++without_original_;
      progress.considered = raw.offset + 1;
      return true;
    }
    if (!known_topic(*target)) {
      failure_ = "the original topic " + show_text(*target) + " of " + where(raw) + " does not exist on " +
                 connection_.servers() + ": create it, or replay with --to";
      return false;
    }
    const auto partition = partition_for(record, *target);
    if (request_.dry_run) {
      ++replayed_;
      std::cout << "would replay " << where(raw) << " (key " << show_key(record.key) << ") to " << *target
                << (partition == RD_KAFKA_PARTITION_UA ? "" : "[" + std::to_string(partition) + "]") << '\n';
      progress.considered = raw.offset + 1;
      return true;
    }
    send(record, raw, *target, partition, progress);
    progress.considered = raw.offset + 1;
    return !stopping();
  }

  std::string where(const rd_kafka_message_t& raw) const {
    return request_.source + "[" + std::to_string(raw.partition) + "]@" + std::to_string(raw.offset);
  }

  /// Whether the brokers have `topic`; asks again once for a name not seen yet.
  bool known_topic(const std::string& topic) {
    if (topics_.contains(topic)) return true;
    if (!refreshed_.insert(topic).second) return false;
    topics_ = connection_.topics(reader_.get());
    return topics_.contains(topic);
  }

  /// Back to the partition it came from when it goes back to its topic (whatever partitioner
  /// its producer used), if that still exists; else the producer's partitioner by key.
  std::int32_t partition_for(const jsonl::Record& record, const std::string& target) const {
    if (!request_.target.empty()) return RD_KAFKA_PARTITION_UA;
    const auto text = header_of(record, "dlq-original-partition");
    if (!text) return RD_KAFKA_PARTITION_UA;
    const auto partition = parse_whole_number(*text, 0, std::numeric_limits<std::int32_t>::max());
    const auto count = topics_.find(target);
    if (!partition || count == topics_.end() || *partition >= count->second) return RD_KAFKA_PARTITION_UA;
    return static_cast<std::int32_t>(*partition);
  }

  void send(const jsonl::Record& record, const rd_kafka_message_t& raw, const std::string& target,
            std::int32_t partition, Progress& progress) {
    // The original headers byte for byte (a null value stays null), none of the dead
    // letter's, then when and how often it was replayed.
    HeadersPtr headers(rd_kafka_headers_new(record.headers.size() + 2));
    for (std::size_t i = 0; i < record.headers.size(); ++i) {
      const auto& [name, value] = record.headers[i];
      if (name.starts_with("dlq-")) continue;
      const bool null = record.headers.is_null(i);
      rd_kafka_header_add(headers.get(), name.data(), static_cast<ssize_t>(name.size()), null ? nullptr : value.data(),
                          static_cast<ssize_t>(value.size()));
    }
    const auto previous = header_of(record, "dlq-replay-count");
    const auto count = (previous ? parse_whole_number(*previous, 0, 1'000'000'000).value_or(0) : 0) + 1;
    const auto replayed_at = jsonl::format_timestamp(now_ms());
    const auto count_text = std::to_string(count);
    rd_kafka_header_add(headers.get(), "dlq-replayed-at", -1, replayed_at.data(),
                        static_cast<ssize_t>(replayed_at.size()));
    rd_kafka_header_add(headers.get(), "dlq-replay-count", -1, count_text.data(),
                        static_cast<ssize_t>(count_text.size()));

    auto& sent = progress.sent.emplace_back(Sent{this, raw.offset});
    const auto deadline = Clock::now() + std::chrono::milliseconds(connection_.timeout_ms());
    while (true) {
      // On success librdkafka owns the headers and has copied key and value.
      const auto err =
          rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(target.c_str()), RD_KAFKA_V_PARTITION(partition),
                            RD_KAFKA_V_KEY(raw.key, raw.key_len), RD_KAFKA_V_VALUE(raw.payload, raw.len),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers.get()),
                            RD_KAFKA_V_OPAQUE(&sent), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        headers.release();  // librdkafka owns them now
        ++in_flight_;
        return;
      }
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || Clock::now() >= deadline) {
        progress.sent.pop_back();
        failure_ = "cannot send " + where(raw) + " to " + target + ": " + rd_kafka_err2str(err);
        failure_code_ = exit_code::unavailable;
        return;
      }
      rd_kafka_poll(producer_.get(), 10);  // back-pressure: let deliveries drain
    }
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
    auto* sent = static_cast<Sent*>(message->_private);
    auto& self = *sent->owner;
    --self.in_flight_;
    if (message->err) {
      if (self.failure_.empty()) {
        self.failure_ = "cannot send " + self.request_.source + "@" + std::to_string(sent->offset) + " to " +
                        rd_kafka_topic_name(message->rkt) + ": " + rd_kafka_err2str(message->err);
        self.failure_code_ = exit_code::unavailable;
      }
      return;  // stays unacknowledged: the group's position stays before it
    }
    sent->acknowledged = true;
    ++self.replayed_;
  }

  /// Between polls: deliveries, commits, the progress line.
  void serve() {
    if (producer_) rd_kafka_poll(producer_.get(), 0);
    const auto now = Clock::now();
    if (producer_ && now - last_commit_ >= commit_interval) commit();
    if (show_progress_ && now - started_ >= progress_after && now - last_progress_ >= progress_interval) {
      last_progress_ = now;
      std::cerr << "\rkernel-admin: replaying " << request_.source << ": read " << scan_->read() << " of "
                << scan_->total() << ", replayed " << replayed_ << "\033[K" << std::flush;
      progress_shown_ = true;
    }
  }

  void clear_progress() {
    if (progress_shown_) std::cerr << "\r\033[K" << std::flush;
  }

  /// Commits each partition's position once everything below it is acknowledged; never
  /// moves a position back (--again resends from the start but remembers as far as before).
  void commit() {
    last_commit_ = Clock::now();
    if (lost_) return;  // the group has moved on: a commit would be refused
    PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(progress_.size())));
    for (auto& [partition, progress] : progress_) {
      const auto point = progress.commit_point();
      if (point > progress.committed) {
        rd_kafka_topic_partition_list_add(list.get(), request_.source.c_str(), partition)->offset = point;
      }
    }
    if (list->cnt == 0) return;
    if (auto err = rd_kafka_commit(reader_.get(), list.get(), 0)) {
      if (failure_.empty()) {
        failure_ = "group " + group_ + " refused the commit: " + rd_kafka_err2str(err);
        failure_code_ = exit_code::unavailable;
      }
      return;
    }
    for (int i = 0; i < list->cnt; ++i) progress_[list->elems[i].partition].committed = list->elems[i].offset;
  }

  /// Waits for every delivery report (librdkafka bounds each by message.timeout.ms), commits
  /// what they allow, leaves the group.
  void finish() {
    while (in_flight_ > 0) {
      rd_kafka_poll(producer_.get(), 100);
      MessagePtr beyond(rd_kafka_consumer_poll(reader_.get(), 0));  // stays a live member meanwhile
      serve();
    }
    commit();
    if (lost_ && failure_.empty()) failure_ = rebalanced_message();
    leave_group();
  }

  std::string rebalanced_message() {
    failure_code_ = exit_code::unavailable;
    return "group " + group_ +
           " was rebalanced while replaying (is the same replay running elsewhere?); run "
           "again to send the rest";
  }

  std::string summary() const {
    std::string out = request_.dry_run ? "dry run: would replay " : "replayed ";
    out += std::to_string(replayed_) + ", skipped " + std::to_string(skipped_) + " by filter, " +
           std::to_string(already_) + " already replayed";
    if (without_original_ > 0)
      out += ", " + std::to_string(without_original_) + " without dlq-original-topic (give --to)";
    if (held_ > 0) {
      out += ", " + std::to_string(held_) + " newer than --until " + request_.filter.until->text + " left for later";
    }
    out += " (group " + group_ + ")";
    if (request_.dry_run) out += "; nothing sent";
    return out;
  }

  Connection& connection_;
  const ReplayRequest& request_;
  const std::string group_;
  HandlePtr reader_;
  HandlePtr producer_;  // destroyed first: its queue is empty by then
  std::optional<Scan> scan_;
  std::map<std::int32_t, Progress> progress_;
  std::map<std::string, int> topics_;
  std::set<std::string> refreshed_;

  std::optional<int> assigned_;
  bool lost_ = false, leaving_ = false;
  std::string failure_;
  int failure_code_ = exit_code::unavailable;
  long long in_flight_ = 0;
  long long replayed_ = 0, skipped_ = 0, already_ = 0, without_original_ = 0, held_ = 0;

  Clock::time_point started_, last_commit_{}, last_progress_{};
  bool show_progress_ = false, progress_shown_ = false;
};

}  // namespace

int replay(Connection& connection, const ReplayRequest& request) {
  Replayer replayer(connection, request);
  return replayer.run();
}

}  // namespace kernel::tools::dlq
