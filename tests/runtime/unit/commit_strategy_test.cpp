// What both commit strategies share (loop/commit_strategy.hpp): when a periodic commit is
// due, the hold around rebalances, and the undo of completions whose offset is not committed.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "loop/commit_strategy.hpp"
#include "loop/partition_state.hpp"

namespace commit_strategy_test {

using namespace std::chrono_literals;
using kernel::detail::CommitHost;
using kernel::detail::CommitResult;
using kernel::detail::CommitStrategy;
using kernel::detail::PartitionState;
using Clock = std::chrono::steady_clock;

/// A loop without partitions or outputs.
class NoPartitions final : public CommitHost {
 public:
  void each_partition(const std::function<void(PartitionState&)>&) override {}
  PartitionState* find_partition(const char*, std::int32_t) override { return nullptr; }
  void settle(PartitionState&) override {}
  void wait_for_outputs(Clock::time_point) override {}
  int pending_outputs() const override { return 0; }
  bool failed() const override { return false; }
  std::optional<Clock::time_point> stop_deadline() const override { return std::nullopt; }
  bool rewind_to_committed(std::chrono::milliseconds) override { return false; }
  void resume_rewound() override {}
  void wake_at(Clock::time_point) override {}
};

/// Counts its commits and answers `answer`.
class CountingCommits final : public CommitStrategy {
 public:
  using CommitStrategy::CommitStrategy;
  CommitResult commit(bool, const rd_kafka_topic_partition_list_t*) override {
    ++commits;
    return answer;
  }
  CommitResult revoked(const rd_kafka_topic_partition_list_t*, bool) override { return CommitResult::done; }
  int commits = 0;
  CommitResult answer = CommitResult::done;
};

kernel::Settings interval_settings() {
  kernel::Settings settings;
  settings.commit_interval = 100ms;
  settings.rebalance_timeout = 1s;
  return settings;
}

struct Fixture {
  NoPartitions host;
  kernel::Settings settings = interval_settings();
  CountingCommits commits{host, settings,
                          std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
                          nullptr};
  Clock::time_point start = Clock::now();
  Fixture() { commits.start_interval(start); }
};

TEST_CASE("a periodic commit is due once the commit interval has passed, then again an interval later") {
  Fixture f;
  CHECK(f.commits.commit_if_due(f.start + 99ms) == CommitResult::done);
  CHECK(f.commits.commits == 0);
  f.commits.commit_if_due(f.start + 100ms);
  CHECK(f.commits.commits == 1);
  f.commits.commit_if_due(f.start + 150ms);
  CHECK(f.commits.commits == 1);
  f.commits.commit_if_due(f.start + 200ms);
  CHECK(f.commits.commits == 2);
}

TEST_CASE("a periodic commit answers with the strategy's result") {
  Fixture f;
  f.commits.answer = CommitResult::fatal;
  CHECK(f.commits.commit_if_due(f.start + 100ms) == CommitResult::fatal);
}

TEST_CASE("a revocation holds periodic commits until the assignment that ends the rebalance") {
  Fixture f;
  f.commits.rebalanced(false, false, f.start);
  f.commits.commit_if_due(f.start + 100ms);
  CHECK(f.commits.commits == 0);
  f.commits.rebalanced(true, false, f.start + 150ms);
  f.commits.commit_if_due(f.start + 200ms);
  CHECK(f.commits.commits == 1);
}

TEST_CASE("after a cooperative revocation the assignment that follows does not end the hold, the next one does") {
  Fixture f;
  f.commits.rebalanced(false, true, f.start);
  f.commits.rebalanced(true, false, f.start + 50ms);
  f.commits.commit_if_due(f.start + 100ms);
  CHECK(f.commits.commits == 0);
  f.commits.rebalanced(true, false, f.start + 150ms);
  f.commits.commit_if_due(f.start + 200ms);
  CHECK(f.commits.commits == 1);
}

TEST_CASE("held periodic commits go ahead once the rebalance timeout has passed") {
  Fixture f;
  f.commits.rebalanced(false, false, f.start);
  f.commits.commit_if_due(f.start + 999ms);
  CHECK(f.commits.commits == 0);
  f.commits.commit_if_due(f.start + 1100ms);
  CHECK(f.commits.commits == 1);
}

TEST_CASE("a commit forgets the undo of the completions below it; a drop undoes the rest") {
  PartitionState partition;
  int undone = 0;
  for (std::int64_t offset : {3, 5, 7}) partition.undo_until_committed.emplace_back(offset, [&undone] { ++undone; });
  CommitStrategy::mark_committed(partition, 6);
  CHECK(partition.committed == 6);
  CHECK(partition.undo_until_committed.size() == 1);
  CommitStrategy::mark_committed(partition, 4);  // an older answer does not move it back
  CHECK(partition.committed == 6);
  CommitStrategy::undo_uncommitted(partition);
  CHECK(undone == 1);
  CHECK(partition.undo_until_committed.empty());
}

}  // namespace commit_strategy_test
