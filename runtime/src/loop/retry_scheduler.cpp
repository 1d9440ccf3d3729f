#include "loop/retry_scheduler.hpp"

#include <algorithm>

#include "config/pipeline_naming.hpp"
#include "core/rfc3339.hpp"
#include "loop/error_text.hpp"
#include "loop/output_sender.hpp"
#include "loop/partition_state.hpp"
#include "loop/partition_table.hpp"
#include "loop/retry_topics.hpp"
#include "loop/standard_headers.hpp"

namespace kernel::detail {

using std::chrono::milliseconds;

RetryScheduler::RetryScheduler(const Config& config, PartitionTable& table, std::shared_ptr<spdlog::logger> log)
    : config_(config),
      settings_(config.settings()),
      table_(table),
      log_(std::move(log)),
      policy_(settings_.retry_backoff, settings_.retry_backoff_max, settings_.retry_multiplier,
              settings_.retry_jitter) {
  for (std::size_t n = 1; n <= settings_.retry_topics.size(); ++n) {
    names_.push_back(retry_topic(settings_, static_cast<int>(n)));
  }
}

void RetryScheduler::keep(PartitionState& partition, InFlight& entry, const Disposition& disposition) {
  partition.retry_entry = &entry;
  partition.retry_attempt = disposition.next_attempt;
  partition.retry_due = Clock::now() + disposition.delay;
  table_.pause(partition, PauseReason::retry);
}

bool RetryScheduler::due(const PartitionState& partition, Clock::time_point now) {
  if (!partition.retry_entry) return false;
  if (now >= partition.retry_due) return true;
  wake_.at(partition.retry_due);
  return false;
}

int RetryScheduler::level(PartitionState& partition) {
  if (partition.retry_level < 0) {
    const auto found = std::find(names_.begin(), names_.end(), partition.topic);
    partition.retry_level = found == names_.end() ? 0 : static_cast<int>(found - names_.begin()) + 1;
  }
  return partition.retry_level;
}

bool RetryScheduler::wait_until_due(PartitionState& partition, InFlight& entry, Message& message) {
  const int retry_level = level(partition);
  if (retry_level == 0) return false;
  const auto due_text = message.header(retry_header::due_at);
  const auto due = due_text ? parse_rfc3339_ms(*due_text) : std::nullopt;
  if (!due) return false;  // not a record this kernel wrote: handle it at once
  const auto remaining = *due - now_epoch_ms();
  if (remaining <= 0) return false;
  // Wait in the retry slot: the partition is paused (nothing behind the head is fetched, and
  // records behind it are due no earlier), the loop keeps polling every other partition, and
  // the loop hands it to the handler when due (due()).
  log_->debug("{}[{}]@{} is due in {} ms", partition.topic, partition.partition, message.offset(), remaining);
  partition.retry_entry = &entry;
  partition.retry_attempt = retry_level + 1;
  partition.retry_due = Clock::now() + milliseconds(remaining);
  partition.retry_message.emplace(std::move(message));
  table_.pause(partition, PauseReason::retry);
  return true;
}

void RetryScheduler::move_to_retry_topic(OutputSender& output, PartitionState& partition, InFlight& entry,
                                         const Message& message, const Outcome& outcome, int attempt, int next) {
  const auto& topic = names_.at(static_cast<std::size_t>(next) - 1);
  const auto delay = settings_.retry_topics.at(static_cast<std::size_t>(next) - 1);
  const auto now = now_epoch_ms();
  const auto& original = message.headers();
  HeadersPtr headers(rd_kafka_headers_new(original.size() + 8));
  auto add = [&](std::string_view name, std::string_view value) {
    rd_kafka_header_add(headers.get(), name.data(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
  };
  // The original headers byte for byte, without the previous retry's bookkeeping; the trace
  // context is this handling's, which the retry's handling continues.
  for (std::size_t i = 0; i < original.size(); ++i) {
    const auto& [name, value] = original.entries()[i];
    if (is_retry_bookkeeping(name) || is_trace_header(name)) continue;
    rd_kafka_header_add(headers.get(), name.data(), static_cast<ssize_t>(name.size()),
                        original.is_null(i) ? nullptr : value.data(), static_cast<ssize_t>(value.size()));
  }
  add_trace_headers(headers.get(), message);
  const auto origin = retry_origin_of(message);
  add(retry_header::original_topic, origin.topic);
  add(retry_header::original_partition, origin.partition);
  add(retry_header::original_offset, origin.offset);
  add(retry_header::original_timestamp, origin.timestamp);
  add(retry_header::first_failed_at, message.header(retry_header::first_failed_at).value_or(format_rfc3339(now)));
  // The first failure's text, masked like a dead letter's: a record a retry topic read may
  // have been written before secrets were masked here, so its copy is masked again.
  constexpr std::size_t max_error = 1024;  // an exception's text can be anything
  const auto earlier = message.header(retry_header::first_error);
  add(retry_header::first_error, masked_error_text(config_, earlier ? *earlier : outcome.message, max_error));
  add(retry_header::attempt, std::to_string(attempt + 1));  // the attempt it will run as
  add(retry_header::due_at, format_rfc3339(now + delay.count()));
  log_->warn("transient error at {}[{}]@{} (attempt {} of {}), moving it to {} (due in {} ms): {}", partition.topic,
             partition.partition, message.offset(), attempt, names_.size() + 1, topic, delay.count(), outcome.message);
  // The input's commit waits for this record's acknowledgement, as for an output.
  entry.handled = true;
  output.send_record(topic, message.key(), message.value(), std::move(headers), entry);
}

}  // namespace kernel::detail
