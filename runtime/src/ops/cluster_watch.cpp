#include "ops/cluster_watch.hpp"

#include <algorithm>

#include <librdkafka/rdkafka.h>

#include "kernel/detail/rdkafka_handles.hpp"

namespace kernel::detail {

ClusterWatch::ClusterWatch(rd_kafka_t* consumer, OpsState& state, std::chrono::milliseconds interval,
                           std::chrono::milliseconds timeout)
    : consumer_(consumer), state_(state), interval_(interval), timeout_(timeout), thread_([this] { run(); }) {}

ClusterWatch::~ClusterWatch() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void ClusterWatch::watch(const std::string& topic, std::int32_t partition) {
  // Reuses the entries (and their strings' storage) of earlier rounds.
  if (wanted_count_ == wanted_.size()) wanted_.emplace_back();
  auto& entry = wanted_[wanted_count_++];
  entry.first.assign(topic);
  entry.second = partition;
}

void ClusterWatch::end_round() {
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock) return;
  const bool changed =
      wanted_count_ != watched_.size() || !std::equal(watched_.begin(), watched_.end(), wanted_.begin());
  if (changed) watched_.assign(wanted_.begin(), wanted_.begin() + static_cast<std::ptrdiff_t>(wanted_count_));
  if (seen_ != found_) seen_ = found_;
  lock.unlock();
  if (changed && wanted_count_ > 0) wake_.notify_all();  // a newly paused partition: ask at once
}

std::optional<ClusterWatch::Watermarks> ClusterWatch::latest(const std::string& topic, std::int32_t partition) const {
  const auto it = seen_.find({topic, partition});
  if (it == seen_.end()) return std::nullopt;
  return it->second;
}

void ClusterWatch::run() {
  using Clock = std::chrono::steady_clock;
  constexpr auto probe_interval = std::chrono::seconds(1);
  std::unique_lock lock(mutex_);
  std::vector<Partition> asked;
  auto next_query = Clock::now();
  while (!stopping_) {
    // Sleeps until the next query is due, or a partition newly needs watching; at most a
    // probe interval while the brokers are reported down.
    const auto until =
        state_.brokers_reported_down() ? std::min(next_query, Clock::now() + probe_interval) : next_query;
    wake_.wait_until(lock, until, [&] { return stopping_ || watched_ != asked; });
    if (stopping_) return;
    lock.unlock();
    if (state_.brokers_reported_down()) {
      const rd_kafka_metadata_t* raw = nullptr;
      // Only this consumer's known topics: a small request, answered by any broker that is up.
      if (rd_kafka_metadata(consumer_, 0, nullptr, &raw, static_cast<int>(timeout_.count())) ==
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        state_.brokers_up();
      }
      MetadataPtr owned(raw);
    }
    lock.lock();
    if (Clock::now() < next_query && watched_ == asked) continue;
    asked = watched_;
    lock.unlock();
    std::map<Partition, Watermarks> answers;
    for (const auto& [topic, partition] : asked) {
      if (stopping_) break;
      Watermarks w;
      const auto err = rd_kafka_query_watermark_offsets(consumer_, topic.c_str(), partition, &w.low, &w.high,
                                                        static_cast<int>(timeout_.count()));
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        answers[{topic, partition}] = w;
      else if (err == RD_KAFKA_RESP_ERR__TIMED_OUT)
        break;  // the brokers are away: next time
    }
    lock.lock();
    // Keeps earlier answers for partitions still watched that got none this time.
    for (auto it = found_.begin(); it != found_.end();) {
      const bool still = std::find(watched_.begin(), watched_.end(), it->first) != watched_.end();
      it = still ? std::next(it) : found_.erase(it);
    }
    for (auto& [key, value] : answers) found_[key] = value;
    next_query = Clock::now() + interval_;
  }
}

}  // namespace kernel::detail
