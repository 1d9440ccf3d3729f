// Non-blocking retry topics: a transient failure moves the message to the next retry topic
// (its commit waits for that record's acknowledgement); a retry topic's head that is not due
// yet waits, with its partition paused, in the in-place retry slot, so polling goes on and
// nothing on any other partition waits for it.
#include "loop/retry_topics.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "core/rfc3339.hpp"
#include "loop/error_text.hpp"
#include "loop/kernel_loop.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"
#include "loop/standard_headers.hpp"

namespace kernel::detail {

bool is_retry_bookkeeping(std::string_view header_name) noexcept {
  return header_name.starts_with("retry-") && header_name != "retry-count";
}

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text) noexcept {
  // Exactly the format format_rfc3339() writes: YYYY-MM-DDTHH:MM:SS.mmmZ.
  if (text.size() != rfc3339_length || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != '.' || text[23] != 'Z') {
    return std::nullopt;
  }
  auto field = [&](std::size_t at, std::size_t length) -> std::optional<int> {
    int value = 0;
    const auto* begin = text.data() + at;
    const auto [end, error] = std::from_chars(begin, begin + length, value);
    if (error != std::errc() || end != begin + length) return std::nullopt;
    return value;
  };
  const auto year = field(0, 4), month = field(5, 2), day = field(8, 2), hour = field(11, 2), minute = field(14, 2),
             second = field(17, 2), milli = field(20, 3);
  if (!year || !month || !day || !hour || !minute || !second || !milli || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                            std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  const auto days_since_epoch = sys_days(date).time_since_epoch();
  return duration_cast<milliseconds>(days_since_epoch + hours(*hour) + minutes(*minute) + seconds(*second)).count() +
         *milli;
}

RetryOrigin retry_origin_of(const Message& message) {
  const auto topic = message.header(retry_header::original_topic);
  const auto partition = message.header(retry_header::original_partition);
  const auto offset = message.header(retry_header::original_offset);
  const auto timestamp = message.header(retry_header::original_timestamp);
  if (topic && partition && offset && timestamp) {
    return {std::string(*topic), std::string(*partition), std::string(*offset), std::string(*timestamp)};
  }
  return {std::string(message.topic()), std::to_string(message.partition()), std::to_string(message.offset()),
          format_rfc3339(message.timestamp_ms())};
}

int KernelLoop::retry_level(PartitionState& partition) {
  if (partition.retry_level < 0) {
    const auto found = std::find(retry_topic_names_.begin(), retry_topic_names_.end(), partition.topic);
    partition.retry_level =
        found == retry_topic_names_.end() ? 0 : static_cast<int>(found - retry_topic_names_.begin()) + 1;
  }
  return partition.retry_level;
}

bool KernelLoop::wait_until_due(PartitionState& partition, InFlight& entry, Message& message) {
  const int level = retry_level(partition);
  if (level == 0) return false;
  const auto due_text = message.header(retry_header::due_at);
  const auto due = due_text ? parse_rfc3339_ms(*due_text) : std::nullopt;
  if (!due) return false;  // not a record this kernel wrote: handle it at once
  const auto remaining = *due - now_epoch_ms();
  if (remaining <= 0) return false;
  // Wait in the retry slot: the partition is paused (nothing behind the head is fetched, and
  // records behind it are due no earlier), the loop keeps polling every other partition, and
  // run_due_retries() hands it to the handler when due.
  log_->debug("{}[{}]@{} is due in {} ms", partition.topic, partition.partition, message.offset(), remaining);
  partition.retry_entry = &entry;
  partition.retry_attempt = level + 1;
  partition.retry_due = Clock::now() + milliseconds(remaining);
  partition.retry_message.emplace(std::move(message));
  pause(partition, PauseReason::retry);
  return true;
}

void KernelLoop::move_to_retry_topic(PartitionState& partition, InFlight& entry, const Message& message,
                                     const Outcome& outcome, int attempt, int next) {
  const auto& topic = retry_topic_names_.at(static_cast<std::size_t>(next) - 1);
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
             partition.partition, message.offset(), attempt, retry_topic_names_.size() + 1, topic, delay.count(),
             outcome.message);
  // The input's commit waits for this record's acknowledgement, as for an output.
  entry.handled = true;
  output_.send_record(topic, message.key(), message.value(), std::move(headers), entry);
}

}  // namespace kernel::detail
