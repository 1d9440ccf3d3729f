// Dead letters: the record built from the input (original bytes, dlq-* headers, cut to fit
// message.max.bytes), the error topic (KAFKA_ERROR_TOPIC) in the same form, and what follows
// when a write fails. A dead letter is never skipped: a write that fails for a passing reason
// is sent again with growing backoff (produce_errors.cpp) while its partition's commit waits;
// here it is counted (kernel_dead_letter_write_failures_total) and reported at most every
// 30 s, because an unwritable dead-letter topic fails every write until it is fixed. One
// refused for good is counted as blocked (/readyz) until written; one refused as too large is
// cut further.
#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "core/rfc3339.hpp"
#include "core/trace_context.hpp"
#include "loop/dead_letter_fit.hpp"
#include "loop/error_text.hpp"
#include "loop/output_sender.hpp"
#include "loop/partition_state.hpp"
#include "loop/retry_topics.hpp"
#include "loop/standard_headers.hpp"
#include "ops/kernel_metrics.hpp"

namespace kernel::detail {

namespace {

/// The longest dlq-error-message and dlq-error-type kept (an exception's text can be anything).
constexpr std::size_t max_error_message = 4096;
constexpr std::size_t max_error_type = 1024;

}  // namespace

void OutputSender::dead_letter(PartitionState& partition, InFlight& entry, const Message& input,
                               std::string_view error_class, FailureReason reason, std::string_view type,
                               std::string_view message, int retries, rd_kafka_topic_t* to) {
  // An exception's text may quote a secret (a URL with its API key): never into a header.
  const auto shown_message = masked_error_text(config_, message, max_error_message);
  const auto shown_type = masked_error_text(config_, type, max_error_type);
  message = shown_message;
  type = shown_type;
  if (!to) {
    to = dlq_topic_;
    if (partition.metrics) partition.metrics->count_dead_letter(reason);
    log_->error("dead-lettering {}[{}]@{} to {}: {} ({}): {}", partition.topic, partition.partition, input.offset(),
                config_.settings().dlq_topic, to_string(reason), type, message);
  }
  // The original headers, byte for byte, then where it came from and why it failed.
  const auto& original = input.headers();
  DeadLetterSizes sizes;
  std::vector<std::size_t> kept_index;  // sizes.headers[i] is original header kept_index[i]
  for (std::size_t i = 0; i < original.size(); ++i) {
    const auto& [name, value] = original.entries()[i];
    if (is_retry_bookkeeping(name)) continue;  // a retry topic's own headers stay there
    if (is_trace_header(name)) continue;       // this handling's replace the input's
    sizes.headers.emplace_back(name, value.size());
    kept_index.push_back(i);
  }
  char stamp[rfc3339_length];
  format_rfc3339(now_epoch_ms(), stamp);
  // From a retry topic: where it first came from (its retry-original-* headers).
  const auto origin = retry_origin_of(input);
  const auto retry_count = std::to_string(retries);
  // The trace goes on through the dead letter: a replay continues it.
  const auto trace = handling_trace_of(input);
  char traceparent[traceparent_length];
  trace.trace.write_traceparent(traceparent);
  const std::pair<std::string_view, std::string_view> added[] = {
      {"traceparent", std::string_view(traceparent, sizeof traceparent)},
      {"tracestate", trace.tracestate},
      {"dlq-original-topic", origin.topic},
      {"dlq-original-partition", origin.partition},
      {"dlq-original-offset", origin.offset},
      {"dlq-original-timestamp", origin.timestamp},
      {"dlq-kernel", kernel_name_},
      {"dlq-failed-at", std::string_view(stamp, sizeof stamp)},
      {"dlq-error-class", error_class},
      {"dlq-failure-reason", to_string(reason)},
      {"dlq-error-type", type},
      {"dlq-error-message", message},
      {"dlq-retry-count", retry_count},
  };
  for (const auto& [name, value] : added) sizes.dlq_header_bytes += name.size() + value.size() + header_overhead;
  const auto key = input.key();
  sizes.key = key ? key->size() : 0;
  sizes.value = input.value().size();
  // A dead letter must always be writable: what does not fit the producer's message.max.bytes
  // is cut (the value, then the largest original headers, then the key), and each cut recorded.
  auto cuts = fit_dead_letter(sizes, message_max_bytes_);
  // Exactly-once: the broker refused this offset's dead letter as too large in an aborted
  // transaction (a topic's max.message.bytes below ours). The redo cuts its value as an
  // at-least-once resend would: halved once per refusal.
  if (const auto refused = partition.dead_letter_too_large.find(entry.offset);
      refused != partition.dead_letter_too_large.end() && cuts.value_size > 0) {
    cuts.value_size >>= std::min(refused->second, 62);
    if (!cuts.truncated) cuts.truncated = std::to_string(sizes.value);
  }

  HeadersPtr headers(rd_kafka_headers_new(sizes.headers.size() + std::size(added) + 3));
  auto add = [&](std::string_view name, const void* value, std::size_t size) {
    rd_kafka_header_add(headers.get(), name.data(), static_cast<ssize_t>(name.size()), value,
                        static_cast<ssize_t>(size));
  };
  for (std::size_t i = 0; i < kept_index.size(); ++i) {
    if (cuts.removed[i]) continue;
    const auto index = kept_index[i];
    const auto& value = original.entries()[index].second;
    // A null value stays null (no pointer), an empty one stays empty.
    add(original.entries()[index].first, original.is_null(index) ? nullptr : value.data(), value.size());
  }
  for (const auto& [name, value] : added) {
    if (!value.empty() || name != "tracestate") add(name, value.data(), value.size());  // no empty tracestate
  }
  auto add_cut = [&](std::string_view name, const std::optional<std::string>& value) {
    if (value) add(name, value->data(), value->size());
  };
  add_cut("dlq-truncated", cuts.truncated);
  add_cut("dlq-removed-headers", cuts.removed_headers);
  add_cut("dlq-key-truncated", cuts.key_truncated);
  if (cuts.truncated || cuts.removed_headers || cuts.key_truncated) {
    log_->warn(
        "dead letter of {}[{}]@{} cut to fit message.max.bytes ({}): value {} of {} bytes, key {} of {} bytes, "
        "{} of its headers removed",
        partition.topic, partition.partition, input.offset(), message_max_bytes_, cuts.value_size, sizes.value,
        cuts.key_size, sizes.key, cuts.removed_count);
  }
  const auto value = input.value().substr(0, cuts.value_size);
  const auto key_kept = key ? std::optional<std::string_view>(key->substr(0, cuts.key_size)) : std::nullopt;

  ++entry.pending_acks;
  ++pending_outputs_;
  entry.handled = true;
  produce_raw(to, RD_KAFKA_PARTITION_UA, key_kept ? key_kept->data() : nullptr, key_kept ? key_kept->size() : 0,
              value.data(), value.size(), std::move(headers), entry.dead_letter_delivery);
}

void OutputSender::dead_letter_write_failed(const std::string& topic, rd_kafka_resp_err_t err,
                                            std::chrono::milliseconds delay) {
  if (metrics_) metrics_->dead_letter_write_failures().Increment();
  const auto now = Clock::now();
  if (last_dead_letter_warning_ != Clock::time_point{} && now - last_dead_letter_warning_ < std::chrono::seconds(30)) {
    ++suppressed_dead_letter_warnings_;
    return;
  }
  std::string more;
  if (suppressed_dead_letter_warnings_ > 0) {
    more = fmt::format(" ({} more {} since the last report)", suppressed_dead_letter_warnings_,
                       suppressed_dead_letter_warnings_ == 1 ? "failure" : "failures");
  }
  log_->warn("dead letter to {} not written ({}); sending it again in {} ms, its partition waits (never skipped){}",
             topic, rd_kafka_err2str(err), delay.count(), more);
  last_dead_letter_warning_ = now;
  suppressed_dead_letter_warnings_ = 0;
}

void OutputSender::publish_business_error(PartitionState& partition, InFlight& entry, const Message& input,
                                          const Outcome& outcome, int retries) {
  // The dead-letter record's form (original bytes + dlq-* headers, class `business`), written
  // to the error topic; its delivery is tracked like a dead letter's, so the input is
  // committed only after the broker acknowledged it and a passing failure is sent again.
  dead_letter(partition, entry, input, "business", outcome.reason, outcome.error_type, outcome.message, retries,
              error_topic_);
}

void OutputSender::block_dead_letter(InFlight& entry, std::string what) {
  if (!entry.dead_letter_blocked) {
    entry.dead_letter_blocked = true;
    ++blocked_dead_letters_;
    log_->error("{}; its partition waits, /readyz fails until it is written", what);
  }
  dead_letter_blocked_ = std::move(what);
}

void OutputSender::unblock_dead_letter(InFlight& entry) noexcept {
  if (!entry.dead_letter_blocked) return;
  entry.dead_letter_blocked = false;
  --blocked_dead_letters_;
}

bool OutputSender::shrink_dead_letter(Resend& resend) {
  // The broker's limit is below ours (a topic's max.message.bytes): cut in the order
  // fit_dead_letter() does, half at a time, recording each cut like it.
  if (!resend.headers) resend.headers.reset(rd_kafka_headers_new(1));
  auto* headers = resend.headers.get();
  auto header = [&](const char* name) -> std::optional<std::string> {
    const void* value = nullptr;
    std::size_t size = 0;
    if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR || !value) {
      return std::nullopt;
    }
    return std::string(static_cast<const char*>(value), size);
  };
  auto set_header = [&](const char* name, const std::string& value) {
    rd_kafka_header_remove(headers, name);
    rd_kafka_header_add(headers, name, -1, value.data(), static_cast<ssize_t>(value.size()));
  };
  if (!resend.value.empty()) {
    // The size before the first cut stays the one recorded.
    set_header("dlq-truncated", header("dlq-truncated").value_or(std::to_string(resend.value.size())));
    resend.value.resize(resend.value.size() / 2);
    return true;
  }
  // Then the original headers (the dlq-* ones and the trace context stay), the largest first,
  // half of their bytes at a time: a record with thousands of small headers fits in a few
  // round trips, and its removal list stays bounded.
  std::vector<std::pair<std::string_view, std::size_t>> originals;
  std::vector<std::size_t> original_index;  // originals[i] is header original_index[i]
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    if (std::string_view(name).starts_with("dlq-") || is_trace_header(name)) continue;
    originals.emplace_back(name, size);
    original_index.push_back(i);
  }
  if (!originals.empty()) {
    const auto cut = headers_to_halve(originals);
    std::vector<bool> removed(original_index.back() + 1, false);  // by header index, up to the last original
    std::vector<std::pair<std::string_view, std::size_t>> listed;
    for (const auto index : cut) {
      removed[original_index[index]] = true;
      listed.push_back(originals[index]);
    }
    const auto list = merge_removed_headers(header("dlq-removed-headers").value_or("[]"), listed);
    HeadersPtr kept(rd_kafka_headers_new(8));
    for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      if (i < removed.size() && removed[i]) continue;
      if (std::string_view(name) == "dlq-removed-headers") continue;  // replaced by the merged list
      rd_kafka_header_add(kept.get(), name, -1, value, value ? static_cast<ssize_t>(size) : 0);
    }
    rd_kafka_header_add(kept.get(), "dlq-removed-headers", -1, list.data(), static_cast<ssize_t>(list.size()));
    resend.headers = std::move(kept);  // the names in originals and listed are not used past here
    return true;
  }
  if (resend.key && !resend.key->empty()) {
    set_header("dlq-key-truncated", header("dlq-key-truncated").value_or(std::to_string(resend.key->size())));
    resend.key->resize(resend.key->size() / 2);
    return true;
  }
  return false;
}

void OutputSender::mark_output_failed(InFlight& entry, std::string reason) {
  if (!entry.output_failed) entry.owner->failed_outputs++;
  entry.output_failed = true;
  entry.output_error = std::move(reason);
}

void OutputSender::dead_letter_failed_outputs(PartitionState& partition) {
  // An input whose output failed for good is dead-lettered (output_failed) once nothing
  // else it produced is still pending; its commit waits for that dead letter.
  for (auto& entry : partition.tracker.entries()) {
    if (!entry.output_failed || entry.pending_acks > 0 || !entry.handled || !entry.input) continue;
    entry.output_failed = false;
    --partition.failed_outputs;
    if (partition.metrics) partition.metrics->count(HandledOutcome::dead_lettered);
    dead_letter(partition, entry, *entry.input, "permanent", FailureReason::output_failed, "kernel::OutputError",
                entry.output_error, entry.retries);
  }
}

}  // namespace kernel::detail
