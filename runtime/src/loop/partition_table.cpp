#include "loop/partition_table.hpp"

#include <algorithm>

#include "core/partition_list.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

PartitionTable::PartitionTable(int per_partition, WakeTime& wake)
    : wake_(wake),
      per_partition_(static_cast<std::size_t>(std::max(0, per_partition))),
      max_in_flight_(static_cast<std::size_t>(std::max(1, per_partition)) * 16),
      max_parked_(max_in_flight_ * 8) {}

PartitionTable::~PartitionTable() = default;

PartitionState* PartitionTable::find(const char* topic, std::int32_t partition) {
  auto it = assigned_.find({topic, partition});
  return it == assigned_.end() ? nullptr : it->second.get();
}

PartitionState* PartitionTable::look_up(const rd_kafka_message_t* message) {
  last_state_ = find(rd_kafka_topic_name(message->rkt), message->partition);
  last_topic_ = message->rkt;
  last_partition_ = message->partition;
  return last_state_;
}

void PartitionTable::add(std::unique_ptr<PartitionState> state) {
  last_state_ = nullptr;
  Key key{state->topic, state->partition};
  assigned_[std::move(key)] = std::move(state);
}

std::unique_ptr<PartitionState> PartitionTable::remove(const Key& key) {
  last_state_ = nullptr;
  auto it = assigned_.find(key);
  if (it == assigned_.end()) return nullptr;
  auto state = std::move(it->second);
  assigned_.erase(it);
  release(*state);
  return state;
}

void PartitionTable::release(PartitionState& state) noexcept {
  last_state_ = nullptr;
  in_flight_ -= state.tracker.in_flight();
  drop_parked(state);  // not handled, not committed: delivered again
  state.retry_message.reset();
  state.retry_entry = nullptr;
  state.retired = true;
}

void PartitionTable::retire(std::unique_ptr<PartitionState> state) {
  // Delivery reports may still point into its entries, and workers' calls into the state.
  if (state->tracker.pending_acks() > 0 || state->lanes.running() > 0) retired_.push_back(std::move(state));
}

void PartitionTable::release_retired() {
  std::erase_if(retired_,
                [](const auto& state) { return state->tracker.pending_acks() == 0 && state->lanes.running() == 0; });
}

void PartitionTable::clear() noexcept {
  last_state_ = nullptr;
  retired_.clear();
  assigned_.clear();
}

InFlight& PartitionTable::begin(PartitionState& partition, std::int64_t offset) {
  auto& entry = partition.tracker.begin(offset);
  entry.owner = &partition;
  ++in_flight_;
  return entry;
}

void PartitionTable::advanced(const PartitionState& partition, std::size_t before) noexcept {
  if (!partition.retired) in_flight_ -= before - partition.tracker.in_flight();
}

bool PartitionTable::has_room(const PartitionState& partition) const noexcept {
  return partition.tracker.in_flight() < per_partition_ && in_flight_ < max_in_flight_;
}

void PartitionTable::park(PartitionState& partition, Message message) {
  // Set aside in order until acknowledgements make room, so the other partitions' messages
  // behind it in the queue keep flowing.
  parked_bytes_ += parked_size(message);
  partition.parked.push_back(std::move(message));
  ++parked_;
  if (parked_bytes_ >= parked_bytes_budget || parked_ >= max_parked_) pause(partition, PauseReason::backpressure);
}

std::optional<Message> PartitionTable::unpark(PartitionState& partition) {
  auto& parked = partition.parked;
  if (parked.empty() || partition.retry_entry || !has_room(partition)) return std::nullopt;
  std::optional<Message> message(std::move(parked.front()));
  parked.pop_front();
  --parked_;
  parked_bytes_ -= parked_size(*message);
  return message;
}

void PartitionTable::drop_parked(PartitionState& partition) noexcept {
  parked_ -= partition.parked.size();
  for (const auto& message : partition.parked) parked_bytes_ -= parked_size(message);
  partition.parked.clear();
}

void PartitionTable::relieve_backpressure() {
  // Parked messages are bounded in key and value bytes and in number: past either, partitions
  // that receive more are paused (librdkafka drops what it prefetched for them and fetches
  // again from after the last parked message on resume).
  if (parked_bytes_ > parked_bytes_budget / 2 || parked_ > max_parked_ / 2) return;
  for (auto& [key, partition] : assigned_) {
    if (partition->paused.has(PauseReason::backpressure)) resume(*partition, PauseReason::backpressure);
  }
}

bool PartitionTable::waiting_for_room(int pending_outputs) const {
  if (parked_ == 0 || pending_outputs == 0) return false;
  for (const auto& [key, partition] : assigned_) {
    if (!partition->parked.empty() && !partition->retry_entry && !held(*partition) && !has_room(*partition))
      return true;
  }
  return false;
}

void PartitionTable::pause(PartitionState& partition, PauseReason reason) {
  // A message's retry scheduled (not one the breaker holds): run() wakes up when it is due (a
  // batch's retry wakes it in BatchExecutor::retry_batch_later()).
  if (reason == PauseReason::retry && partition.retry_entry && !held(partition)) wake_.at(partition.retry_due);
  const bool was_running = !partition.paused.any();
  partition.paused.add(reason);
  if (!was_running) return;
  const auto list = make_partition_list({{partition.topic, partition.partition}});
  // librdkafka remembers the position after the last message we received and fetches
  // from there on resume; anything it had fetched beyond is discarded.
  rd_kafka_pause_partitions(consumer_, list.get());
}

void PartitionTable::resume(PartitionState& partition, PauseReason reason) {
  partition.paused.remove(reason);
  // No longer held (breaker closed, operator resume) with a retry waiting: it is due now or later.
  if (partition.retry_entry && !held(partition)) wake_.at(partition.retry_due);
  if (partition.paused.any()) return;
  const auto list = make_partition_list({{partition.topic, partition.partition}});
  rd_kafka_resume_partitions(consumer_, list.get());
}

void PartitionTable::pause_all(PauseReason reason) {
  for (auto& [key, partition] : assigned_) pause(*partition, reason);
}

void PartitionTable::resume_all(PauseReason reason) {
  for (auto& [key, partition] : assigned_) resume(*partition, reason);
}

bool PartitionTable::held(const PartitionState& partition) noexcept {
  return partition.paused.has(PauseReason::operator_) || partition.paused.has(PauseReason::breaker) ||
         partition.paused.has(PauseReason::fleet);
}

int PartitionTable::pending_acks(const rd_kafka_topic_partition_list_t* partitions) {
  int pending = 0;
  for (int i = 0; i < partitions->cnt; ++i) {
    if (const auto* partition = find(partitions->elems[i].topic, partitions->elems[i].partition)) {
      pending += partition->tracker.pending_acks();
    }
  }
  return pending;
}

std::map<PartitionTable::Key, std::int64_t> PartitionTable::committed_offsets() const {
  std::map<Key, std::int64_t> out;
  for (const auto& [key, partition] : assigned_) out[key] = partition->committed;
  return out;
}

}  // namespace kernel::detail
