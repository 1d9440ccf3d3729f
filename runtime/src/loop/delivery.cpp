// Producing outputs and dead letters, their delivery reports, resends, and settling what completed.
#include "loop/kernel_loop.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include <nlohmann/json.hpp>

#include "core/rfc3339.hpp"
#include "loop/dead_letter_fit.hpp"
#include "loop/error_text.hpp"
#include "loop/exactly_once_commits.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"
#include "loop/produce_errors.hpp"
#include "loop/retry_topics.hpp"

namespace kernel::detail {

void KernelLoop::send_output(const Outgoing& output, const Message& input, InFlight& entry, int attempt) {
  const std::string* name = nullptr;
  std::string prefixed;
  if (output.topic().empty()) {
    name = &*settings_.output_topic;  // Context::produce() refuses a message without either
  } else {
    prefixed = settings_.topic_prefix + output.topic();
    name = &prefixed;
  }
  auto headers = stamper_.stamp(output, &input, attempt);
  const auto& key = output.key();
  ++entry.pending_acks;
  ++pending_outputs_;
  produce_raw(producer_topic(*name), output.partition().value_or(RD_KAFKA_PARTITION_UA), key ? key->data() : nullptr,
              key ? key->size() : 0, output.value().data(), output.value().size(), std::move(headers),
              entry.output_delivery);
}

namespace {

/// The longest dlq-error-message and dlq-error-type kept (an exception's text can be anything).
constexpr std::size_t max_error_message = 4096;
constexpr std::size_t max_error_type = 1024;

}  // namespace

void KernelLoop::dead_letter(PartitionState& partition, InFlight& entry, const Message& input,
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
                settings_.dlq_topic, to_string(reason), type, message);
  }
  // The original headers, byte for byte, then where it came from and why it failed.
  const auto& original = input.headers();
  DeadLetterSizes sizes;
  std::vector<std::size_t> kept_index;  // sizes.headers[i] is original header kept_index[i]
  for (std::size_t i = 0; i < original.size(); ++i) {
    const auto& [name, value] = original.entries()[i];
    if (is_retry_bookkeeping(name)) continue;  // a retry topic's own headers stay there
    sizes.headers.emplace_back(name, value.size());
    kept_index.push_back(i);
  }
  char stamp[rfc3339_length];
  format_rfc3339(now_epoch_ms(), stamp);
  // From a retry topic: where it first came from (its retry-original-* headers).
  const auto origin = retry_origin_of(input);
  const auto retry_count = std::to_string(retries);
  const std::pair<std::string_view, std::string_view> added[] = {
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
  for (const auto& [name, value] : added) add(name, value.data(), value.size());
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

void KernelLoop::produce_raw(rd_kafka_topic_t* topic, std::int32_t partition, const void* key, std::size_t key_len,
                             const void* value, std::size_t value_len, HeadersPtr headers, const Delivery& delivery) {
  // The delivery report hands the opaque back (delivered()); librdkafka never writes through it.
  auto* opaque = const_cast<Delivery*>(&delivery);
  auto copy = [&] {
    return Resend{{},
                  rd_kafka_topic_name(topic),
                  partition,
                  key ? std::optional<std::string>(std::string(static_cast<const char*>(key), key_len)) : std::nullopt,
                  std::string(static_cast<const char*>(value), value_len),
                  std::move(headers),
                  &delivery};
  };
  auto* exactly_once = commits_->exactly_once();
  if (exactly_once && executor_ && executor_->concurrent() && ExactlyOnceCommits::must_hold(*delivery.entry)) {
    // Exactly-once with workers: produced once the offsets below its input are concluded.
    --pending_outputs_;  // a commit waits only for what was produced
    ExactlyOnceCommits::hold(copy());
    return;
  }
  if (exactly_once && !exactly_once->begin()) {
    stop_on_fatal_error(producer_.get());  // the producer failed for good
    return;
  }
  while (true) {
    const auto err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key, key_len),
        RD_KAFKA_V_VALUE(const_cast<void*>(value), value_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      (void)headers.release();  // accepted: the message owns its headers now (key and value were copied)
      if (exactly_once) ExactlyOnceCommits::produced(*delivery.entry);
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      // Back-pressure, not an error: let deliveries drain.
      rd_kafka_poll(producer_.get(), 10);
      continue;
    }
    // Refused before sending (too large, unknown partition...): handled like a failed delivery.
    produce_failed(copy(), err);
    return;
  }
}

void KernelLoop::mark_output_failed(InFlight& entry, std::string reason) {
  if (!entry.output_failed) entry.owner->failed_outputs++;
  entry.output_failed = true;
  entry.output_error = std::move(reason);
}

void KernelLoop::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  static_cast<KernelLoop*>(opaque)->delivered(message);
}

void KernelLoop::delivered(const rd_kafka_message_t* message) {
  const auto* delivery = static_cast<const Delivery*>(message->_private);  // produce_raw()'s opaque
  auto* entry = delivery->entry;
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    --pending_outputs_;
    --entry->pending_acks;
    if (metrics_) count_produced(message);
    if (delivery->dead_letter && entry->dead_letter_blocked) {
      log_->info("the dead letter of {}[{}]@{} refused before was written to {}", entry->owner->topic,
                 entry->owner->partition, entry->offset, rd_kafka_topic_name(message->rkt));
      unblock_dead_letter(*entry);
    }
    if (hooks_.on_delivered) hooks_.on_delivered(message, delivery->dead_letter);
    settle(*entry->owner);
    return;
  }
  if (auto* exactly_once = commits_->exactly_once(); exactly_once && exactly_once->record_failed(*message, *delivery)) {
    --pending_outputs_;  // given up: the transaction is aborted and its work redone
    return;
  }
  rd_kafka_headers_t* headers = nullptr;
  HeadersPtr copy;
  if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    copy.reset(rd_kafka_headers_copy(headers));
  }
  std::optional<std::string> key;
  if (message->key) key.emplace(static_cast<const char*>(message->key), message->key_len);
  produce_failed(Resend{{},
                        rd_kafka_topic_name(message->rkt),
                        message->partition,
                        std::move(key),
                        std::string(static_cast<const char*>(message->payload), message->len),
                        std::move(copy),
                        delivery},
                 message->err);
}

void KernelLoop::produce_failed(Resend failed, rd_kafka_resp_err_t err) {
  // The message still counts as pending (pending_outputs_, its entry's pending_acks) until
  // it is given up here or acknowledged after a resend.
  auto* entry = failed.delivery->entry;
  const bool dead_letter = failed.delivery->dead_letter;
  auto& partition = *entry->owner;
  auto give_up = [&] {
    --pending_outputs_;
    --entry->pending_acks;
  };
  const bool producer_failed = rd_kafka_fatal_error(producer_.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR;
  const auto kind = producer_failed ? ProduceErrorKind::fatal : classify_produce_error(err);
  if (kind == ProduceErrorKind::fatal) {
    // Nothing more can be produced: stop at once. The entry keeps its pending ack, so its
    // input is never committed and is delivered again after a restart.
    --pending_outputs_;
    stop_on_fatal_error(producer_.get());
    return;
  }
  if (partition.retired) {
    give_up();  // handed over in a rebalance: its next owner handles the input again
    unblock_dead_letter(*entry);
    return;
  }
  const char* what = dead_letter ? "dead letter" : "output";
  if (!dead_letter && kind != ProduceErrorKind::passing) {
    log_produce_failure(spdlog::level::err, fmt::format("output to {} failed for good ({}); the input will be "
                                                        "dead-lettered (output_failed)",
                                                        failed.topic, rd_kafka_err2str(err)));
    give_up();
    mark_output_failed(*entry, failed.topic + ": " + rd_kafka_err2str(err));
    settle(partition);
    return;
  }
  if (dead_letter && kind == ProduceErrorKind::too_large && shrink_dead_letter(failed)) {
    log_->warn(
        "dead letter to {} refused as too large ({}); sending it again cut further (value {} bytes, key {} "
        "bytes; once the value is gone, half of the original headers' bytes, the largest first)",
        failed.topic, rd_kafka_err2str(err), failed.value.size(), failed.key ? failed.key->size() : 0);
    failed.due = Clock::now();
  } else {
    // A passing failure (broker away, timeout), or a dead letter that cannot be written yet:
    // send it again later with growing backoff; the partition's commit waits for it.
    ++entry->resends;
    const auto delay = retry_policy_.delay(entry->resends);
    failed.due = Clock::now() + delay;
    if (dead_letter) {
      if (kind != ProduceErrorKind::passing) {
        // No resend can change this answer: an operator must (grant access, raise the
        // topic's max.message.bytes). Said in /readyz, /healthz and the metrics until written.
        block_dead_letter(*entry, fmt::format("dead letter of {}[{}]@{} to {} refused for good: {}", partition.topic,
                                              partition.partition, entry->offset, failed.topic, rd_kafka_err2str(err)));
      }
      dead_letter_write_failed(failed.topic, err, delay);
    } else {
      log_produce_failure(kind == ProduceErrorKind::passing ? spdlog::level::warn : spdlog::level::err,
                          fmt::format("{} to {} not delivered ({}); sending it again in {} ms", what, failed.topic,
                                      rd_kafka_err2str(err), delay.count()));
    }
  }
  resends_.push_back(std::move(failed));
}

void KernelLoop::block_dead_letter(InFlight& entry, std::string what) {
  if (!entry.dead_letter_blocked) {
    entry.dead_letter_blocked = true;
    ++blocked_dead_letters_;
    log_->error("{}; its partition waits, /readyz fails until it is written", what);
  }
  dead_letter_blocked_ = std::move(what);
}

void KernelLoop::unblock_dead_letter(InFlight& entry) noexcept {
  if (!entry.dead_letter_blocked) return;
  entry.dead_letter_blocked = false;
  --blocked_dead_letters_;
}

bool KernelLoop::shrink_dead_letter(Resend& resend) {
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
  // Then the original headers (the dlq-* ones say why the letter exists: they stay), the
  // largest first, half of their bytes at a time: a record with thousands of small headers
  // fits in a few round trips, and its removal list stays bounded.
  std::vector<std::pair<std::string_view, std::size_t>> originals;
  std::vector<std::size_t> original_index;  // originals[i] is header original_index[i]
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    if (std::string_view(name).starts_with("dlq-")) continue;
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

void KernelLoop::stop_on_fatal_error(rd_kafka_t* client) {
  if (exit_code_ == exit_code::software) return;
  std::array<char, 512> reason{};
  const auto err = rd_kafka_fatal_error(client, reason.data(), reason.size());
  fatal_reason_ = err ? std::string(rd_kafka_err2name(err)) + ": " + reason.data() : "fatal librdkafka error";
  if (commits_ && commits_->exactly_once() && client == producer_.get()) {
    fatal_reason_ = commits_->fatal_reason();  // names the transactional.id
  }
  log_->critical("fatal error in the {} ({}); stopping: what was not committed is delivered again after a restart",
                 client == producer_.get() ? "producer" : "consumer", fatal_reason_);
  exit_code_ = exit_code::software;
  request_stop();
}

void KernelLoop::log_produce_failure(spdlog::level::level_enum level, std::string text) {
  // One line a second at most: a broker away fails every message in flight.
  const auto now = Clock::now();
  if (now - last_resend_warning_ < std::chrono::seconds(1)) {
    ++suppressed_resend_warnings_;
    return;
  }
  if (suppressed_resend_warnings_ > 0) {
    text += fmt::format(" ({} more {} since the last report)", suppressed_resend_warnings_,
                        suppressed_resend_warnings_ == 1 ? "failure" : "failures");
  }
  log_->log(level, "{}", text);
  last_resend_warning_ = now;
  suppressed_resend_warnings_ = 0;
}

void KernelLoop::resend_due() {
  if (resends_.empty()) return;
  const auto now = Clock::now();
  std::vector<Resend> due;
  for (auto it = resends_.begin(); it != resends_.end();) {
    if (it->due <= now) {
      due.push_back(std::move(*it));
      it = resends_.erase(it);
    } else {
      ++it;
    }
  }
  // Still counted as pending (pending_outputs_, the entry's pending_acks) while queued here.
  for (auto& resend : due) {
    auto* owner = resend.delivery->entry->owner;
    produce_again(resend);
    // A resend refused for good marks its input for a dead letter: act on it now.
    settle(*owner);
  }
}

void KernelLoop::produce_again(Resend& resend) {
  produce_raw(producer_topic(resend.topic), resend.partition, resend.key ? resend.key->data() : nullptr,
              resend.key ? resend.key->size() : 0, resend.value.data(), resend.value.size(), std::move(resend.headers),
              *resend.delivery);
}

void KernelLoop::drop_resends(PartitionState& partition) {
  std::erase_if(resends_, [&](const Resend& resend) {
    auto* entry = resend.delivery->entry;
    if (entry->owner != &partition) return false;
    --pending_outputs_;
    --entry->pending_acks;
    unblock_dead_letter(*entry);  // its next owner meets the refusal, if any
    return true;
  });
}

void KernelLoop::wait_for_outputs(Clock::time_point deadline, const rd_kafka_topic_partition_list_t* partitions) {
  // rd_kafka_flush() sends at once what linger.ms would hold back, and serves delivery
  // reports; between slices, resends that came due go out again.
  while (pending_outputs_of(partitions) > 0 && Clock::now() < deadline && exit_code_ != exit_code::software &&
         !(commits_ && commits_->must_abort())) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    rd_kafka_flush(producer_.get(), static_cast<int>(std::clamp<long long>(left, 0, 50)));
    resend_due();
  }
}

int KernelLoop::pending_outputs_of(const rd_kafka_topic_partition_list_t* partitions) {
  if (!partitions) return pending_outputs_;
  int pending = 0;
  for (int i = 0; i < partitions->cnt; ++i) {
    if (const auto* partition = find_partition(partitions->elems[i].topic, partitions->elems[i].partition)) {
      pending += partition->tracker.pending_acks();
    }
  }
  return pending;
}

void KernelLoop::settle(PartitionState& partition) {
  // Producing a dead letter below can serve delivery reports, which settle again: the outer
  // call finishes the work, so the inner one must not touch the entries it walks.
  if (settling_) return;
  settling_ = true;
  if (partition.failed_outputs > 0 && !partition.retired) dead_letter_failed_outputs(partition);
  const auto before = partition.tracker.in_flight();
  partition.tracker.advance();
  if (!partition.retired) total_in_flight_ -= before - partition.tracker.in_flight();
  settling_ = false;
}

void KernelLoop::dead_letter_failed_outputs(PartitionState& partition) {
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
