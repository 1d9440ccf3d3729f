#include "loop/kernel_loop.hpp"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <deque>
#include <thread>

#include "log/logging.hpp"
#include "loop/partition_state.hpp"
#include "kernel/middleware.hpp"

namespace kernel::detail {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// A message to send again after a passing failure (the partition waits for it).
struct KernelLoop::Resend {
  Clock::time_point due;
  std::string topic;
  std::int32_t partition;
  std::optional<std::string> key;
  std::string value;
  HeadersPtr headers;
  void* opaque;
  int attempt;
};

namespace {

// Delivery-report opaques are InFlight pointers; the low bit marks a dead letter.
void* tag(InFlight* entry, bool dead_letter) {
  return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(entry) | (dead_letter ? 1u : 0u));
}
InFlight* untag(void* opaque, bool* dead_letter) {
  const auto bits = reinterpret_cast<std::uintptr_t>(opaque);
  *dead_letter = (bits & 1u) != 0;
  return reinterpret_cast<InFlight*>(bits & ~std::uintptr_t{1});
}

/// Produce errors that sending again cannot fix: the input is dead-lettered (output_failed).
bool is_permanent_produce_error(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return true;
    default:
      return false;
  }
}

std::string describe_partitions(const rd_kafka_topic_partition_list_t* list) {
  // orders[0,1,2] payments[3]
  std::map<std::string, std::vector<std::int32_t>> by_topic;
  for (int i = 0; i < list->cnt; ++i) by_topic[list->elems[i].topic].push_back(list->elems[i].partition);
  std::string text;
  for (auto& [topic, partitions] : by_topic) {
    std::sort(partitions.begin(), partitions.end());
    if (!text.empty()) text += ' ';
    text += topic + '[';
    for (std::size_t i = 0; i < partitions.size(); ++i) {
      text += (i ? "," : "") + std::to_string(partitions[i]);
    }
    text += ']';
  }
  return text.empty() ? "nothing" : text;
}

/// The kernel's middleware, with the built-in metrics layer outermost when metrics are on and
/// the kernel did not place it itself.
std::vector<ConsumerMiddleware> with_metrics_layer(std::vector<ConsumerMiddleware> middleware, bool metrics_on) {
  const bool placed = std::any_of(middleware.begin(), middleware.end(), middleware::is_metrics);
  if (metrics_on && !placed) middleware.insert(middleware.begin(), middleware::metrics());
  return middleware;
}

}  // namespace

KernelLoop::KernelLoop(Config config, const KernelSpec& spec, std::shared_ptr<spdlog::logger> logger,
                       LoopHooks hooks, Operations* operations)
    : config_(std::move(config)),
      settings_(config_.settings()),
      kernel_name_(settings_.kernel_name.empty() ? spec.name : settings_.kernel_name),
      chain_(spec.handler, with_metrics_layer(spec.middleware, operations != nullptr)),
      log_(std::move(logger)),
      hooks_(std::move(hooks)),
      retry_policy_(settings_.retry_backoff, settings_.retry_backoff_max, settings_.retry_multiplier,
                    settings_.retry_jitter),
      stamper_(kernel_name_),
      context_(kernel_name_, settings_.output_topic, log_),
      ops_(operations ? &operations->state() : nullptr),
      metrics_(operations ? &operations->metrics() : nullptr),
      max_in_flight_total_(static_cast<std::size_t>(std::max(1, settings_.max_poll_records)) * 16) {
  context_.set_producer_middleware(spec.producer_middleware);
  context_.set_metrics(metrics_);
}

KernelLoop::~KernelLoop() {
  // Topic handles before their clients, and the clients while every member their callbacks
  // touch is still alive (destroying a consumer that was never closed closes it, which can
  // call back into this object).
  producer_topics_.clear();
  consumer_topics_.clear();
  if (consumer_ && subscribed_ && !joined()) {
    // librdkafka before 2.3.0 asserts when a cooperative-sticky consumer is destroyed between
    // joining its group and its first assignment (its assignor state is still unset). It was
    // closed in shutdown(); the process is about to exit, so leave the handle to it.
    (void)consumer_.release();
  }
  consumer_.reset();
  producer_.reset();
}

HandlePtr KernelLoop::make_client(rd_kafka_type_t type, const std::vector<Property>& properties) {
  ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  for (const auto& property : properties) {
    if (rd_kafka_conf_set(conf.get(), property.name.c_str(), property.value.c_str(), error.data(),
                          error.size()) != RD_KAFKA_CONF_OK) {
      throw StartupError(exit_code::config, "config error: " +
                                                (property.variable.empty() ? property.name : property.variable) +
                                                ": " + error.data());
    }
  }
  route_rdkafka_logs(conf.get(), log_);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_error_cb(conf.get(), &KernelLoop::on_error);
  if (type == RD_KAFKA_CONSUMER) {
    rd_kafka_conf_set_rebalance_cb(conf.get(), &KernelLoop::on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf.get(), &KernelLoop::on_commit);
  } else {
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &KernelLoop::on_delivery);
  }
  HandlePtr handle(rd_kafka_new(type, conf.get(), error.data(), error.size()));
  if (!handle) throw StartupError(exit_code::config, std::string("config error: ") + error.data());
  conf.release();  // rd_kafka_new took ownership of the configuration
  return handle;
}

void KernelLoop::start() {
  producer_ = make_client(RD_KAFKA_PRODUCER, config_.producer_properties());
  consumer_ = make_client(RD_KAFKA_CONSUMER, config_.consumer_properties());
  // Serve the consumer's main events (errors, logs, rebalances) from consumer_poll().
  rd_kafka_poll_set_consumer(consumer_.get());
  wait_for_topics();
  dlq_topic_ = producer_topic(settings_.dlq_topic);

  PartitionListPtr topics(rd_kafka_topic_partition_list_new(static_cast<int>(settings_.input_topics.size())));
  for (const auto& topic : settings_.input_topics) {
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (auto err = rd_kafka_subscribe(consumer_.get(), topics.get())) {
    throw StartupError(exit_code::software, std::string("cannot subscribe: ") + rd_kafka_err2str(err));
  }
  subscribed_ = true;
  std::string inputs;
  for (const auto& topic : settings_.input_topics) inputs += (inputs.empty() ? "" : ",") + topic;
  log_->info("subscribed to {} as group {} (output {}, dead letters {})", inputs, settings_.group_id,
             settings_.output_topic.value_or("none"), settings_.dlq_topic);
}

void KernelLoop::wait_for_topics() {
  std::vector<std::string> needed = settings_.input_topics;
  if (settings_.output_topic) needed.push_back(*settings_.output_topic);
  needed.push_back(settings_.dlq_topic);

  const auto deadline = Clock::now() + settings_.startup_timeout;
  std::vector<std::string> missing = needed;
  bool reached_broker = false;
  std::string last_error;
  while (true) {
    if (startup_failure_.load()) {
      throw StartupError(startup_failure_.load(), startup_failure_reason_);
    }
    std::vector<std::string> still_missing;
    for (const auto& name : missing) {
      // Asking for one topic's metadata lets a broker that allows it create the topic.
      TopicPtr topic(rd_kafka_topic_new(producer_.get(), name.c_str(), nullptr));
      const rd_kafka_metadata_t* raw = nullptr;
      const auto err = rd_kafka_metadata(producer_.get(), 0, topic.get(), &raw, 1000);
      MetadataPtr metadata(raw);
      if (err) {
        last_error = rd_kafka_err2str(err);
        still_missing.push_back(name);
        continue;
      }
      reached_broker = true;
      const bool present = metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                           metadata->topics[0].partition_cnt > 0;
      if (!present) {
        if (metadata->topic_cnt == 1) last_error = rd_kafka_err2str(metadata->topics[0].err);
        still_missing.push_back(name);
      }
    }
    missing = std::move(still_missing);
    if (missing.empty()) return;
    if (startup_failure_.load()) continue;
    if (Clock::now() >= deadline || stopping()) break;
    rd_kafka_poll(producer_.get(), 200);  // serves error callbacks while we wait
  }
  if (!reached_broker) {
    throw StartupError(exit_code::unavailable,
                       "cannot reach the brokers " + settings_.bootstrap_servers + " within " +
                           std::to_string(settings_.startup_timeout.count()) + " ms (" + last_error +
                           "); check KAFKA_BOOTSTRAP_SERVERS and the network, or raise KERNEL_STARTUP_TIMEOUT");
  }
  std::string names;
  for (const auto& name : missing) names += (names.empty() ? "" : ", ") + name;
  throw StartupError(exit_code::unavailable,
                     "topics missing on " + settings_.bootstrap_servers + ": " + names + " (" + last_error +
                         "); create them, or allow the broker to auto-create topics");
}

rd_kafka_topic_t* KernelLoop::producer_topic(const std::string& name) {
  auto it = producer_topics_.find(name);
  if (it == producer_topics_.end()) {
    it = producer_topics_.emplace(name, TopicPtr(rd_kafka_topic_new(producer_.get(), name.c_str(), nullptr))).first;
  }
  return it->second.get();
}

KernelLoop::PartitionState* KernelLoop::find_partition(const char* topic, std::int32_t partition) {
  auto it = partitions_.find({topic, partition});
  return it == partitions_.end() ? nullptr : it->second.get();
}

KernelLoop::PartitionState* KernelLoop::partition_of(const rd_kafka_message_t* message) {
  // Messages come in runs from one partition: remember the last lookup.
  if (message->rkt == last_topic_ && message->partition == last_partition_ && last_state_) return last_state_;
  last_state_ = find_partition(rd_kafka_topic_name(message->rkt), message->partition);
  last_topic_ = message->rkt;
  last_partition_ = message->partition;
  return last_state_;
}

int KernelLoop::run() {
  next_commit_ = Clock::now() + settings_.commit_interval;
  auto next_housekeeping = Clock::now();
  while (!stopping()) {
    if (hooks_.should_stop && hooks_.should_stop()) break;
    // Short polls while work is pending so delivery reports and retries are served promptly.
    const int timeout = (pending_outputs_ > 0 || !resends_.empty()) ? 5 : 100;
    rd_kafka_message_t* raw = rd_kafka_consumer_poll(consumer_.get(), timeout);
    if (raw) handle(raw);
    rd_kafka_poll(producer_.get(), 0);
    drain_parked();
    if (exit_code_ != exit_code::ok) break;

    const auto now = Clock::now();
    if (ops_) {
      ops_->heartbeat(now);  // liveness: one relaxed store per iteration
      if (ops_->requested_generation() != operator_generation_) apply_operator_pause();
    }
    if (now >= next_housekeeping) {
      next_housekeeping = now + milliseconds(10);
      if (ops_ && now >= publish_due_) publish_status(now);
      run_due_retries();
      resend_due();
      check_backpressure();
      std::erase_if(retired_, [](const auto& state) { return state->tracker.pending_acks() == 0; });
      if (rd_kafka_fatal_error(producer_.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::array<char, 512> reason{};
        rd_kafka_fatal_error(producer_.get(), reason.data(), reason.size());
        log_->critical("fatal producer error: {}", reason.data());
        exit_code_ = exit_code::software;
        break;
      }
      if (now >= next_commit_) {
        commit_completed(false);
        next_commit_ = now + settings_.commit_interval;
      }
    }
  }
  return shutdown();
}

void KernelLoop::handle(rd_kafka_message_t* raw) {
  if (raw->err) {
    MessagePtr owned(raw);
    if (raw->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    const bool fatal = raw->err == RD_KAFKA_RESP_ERR__FATAL;
    log_->log(fatal ? spdlog::level::critical : spdlog::level::warn, "consumer: {}",
              rd_kafka_message_errstr(raw));
    if (fatal) exit_code_ = exit_code::software;
    return;
  }
  auto* partition = partition_of(raw);
  // Not ours any more, or already handled (a redelivery after a seek): drop it.
  if (!partition || raw->offset < partition->next_offset) {
    rd_kafka_message_destroy(raw);
    return;
  }
  if (partition->paused) {
    // librdkafka normally holds back a paused partition's messages; if one arrives anyway,
    // rewind so it is fetched again on resume rather than skipped.
    rd_kafka_seek(raw->rkt, raw->partition, raw->offset, 0);
    rd_kafka_message_destroy(raw);
    return;
  }
  auto message = Message::adopt(raw);
  partition->next_offset = message.offset() + 1;
  if (partition->metrics) partition->metrics->consumed->Increment();
  if (!partition->parked.empty() || partition->retry_entry || !has_room(*partition)) {
    // At the in-flight cap: set it aside (in order) until acknowledgements make room, so the
    // other partitions' messages behind it in the queue keep flowing.
    parked_bytes_ += message.value().size() + message.key().value_or("").size();
    partition->parked.push_back(std::move(message));
    ++total_parked_;
    if (parked_bytes_ >= parked_bytes_budget) pause(*partition, PauseReason::backpressure);
    return;
  }
  handle_now(*partition, std::move(message));
}

bool KernelLoop::has_room(const PartitionState& partition) const noexcept {
  return partition.tracker.in_flight() < static_cast<std::size_t>(settings_.max_poll_records) &&
         total_in_flight_ < max_in_flight_total_;
}

void KernelLoop::handle_now(PartitionState& partition, Message message) {
  auto& entry = partition.tracker.begin(message.offset());
  entry.owner = &partition;
  ++total_in_flight_;
  process(partition, entry, message, 1);
  if (!entry.handled && partition.retry_entry == &entry) {
    partition.retry_message.emplace(std::move(message));
  } else if ((entry.pending_acks > 0 || entry.output_failed) && !entry.input) {
    entry.input.emplace(std::move(message));  // kept in case an output fails for good
  }
  settle(partition);
}

void KernelLoop::drain_parked() {
  if (total_parked_ == 0) return;
  for (auto& [key, partition] : partitions_) {
    if (held(*partition)) continue;  // an operator or a breaker holds it: nothing new is handled
    auto& parked = partition->parked;
    while (!parked.empty() && !partition->retry_entry && has_room(*partition) && exit_code_ == exit_code::ok) {
      auto message = std::move(parked.front());
      parked.pop_front();
      --total_parked_;
      parked_bytes_ -= message.value().size() + message.key().value_or("").size();
      handle_now(*partition, std::move(message));
    }
  }
}

void KernelLoop::process(PartitionState& partition, InFlight& entry, Message& message, int attempt) {
  ScopedLogContext scope(partition.topic, partition.partition, message.offset());
  context_.begin_attempt(attempt);
  Outcome outcome = chain_(message, context_);
  entry.retries = attempt - 1;
  switch (outcome.kind) {
    case Outcome::Kind::success: {
      for (const auto& output : context_.produced()) send_output(output, message, entry, attempt);
      entry.handled = true;
      break;
    }
    case Outcome::Kind::business:
      log_->warn("business error at {}[{}]@{}: {}", partition.topic, partition.partition, message.offset(),
                 outcome.message);
      entry.handled = true;
      break;
    case Outcome::Kind::transient:
      if (attempt <= settings_.max_retries) {
        const auto delay = retry_policy_.delay(attempt);
        log_->warn("transient error at {}[{}]@{} (attempt {} of {}), retrying in {} ms: {}", partition.topic,
                   partition.partition, message.offset(), attempt, settings_.max_retries + 1, delay.count(),
                   outcome.message);
        partition.retry_entry = &entry;
        partition.retry_attempt = attempt + 1;
        partition.retry_due = Clock::now() + delay;
        pause(partition, PauseReason::retry);
        return;
      }
      dead_letter(partition, entry, message, "transient", FailureReason::retries_exhausted, outcome.error_type,
                  outcome.message, attempt - 1);
      break;
    case Outcome::Kind::permanent:
      dead_letter(partition, entry, message, "permanent", outcome.reason, outcome.error_type, outcome.message,
                  attempt - 1);
      break;
    case Outcome::Kind::fatal:
      log_->critical("fatal error at {}[{}]@{}: {}; stopping", partition.topic, partition.partition,
                     message.offset(), outcome.message);
      fatal_reason_ = outcome.message;
      exit_code_ = exit_code::failure;
      request_stop();
      return;
  }
}

void KernelLoop::run_due_retries() {
  const auto now = Clock::now();
  for (auto& [key, partition] : partitions_) {
    if (!partition->retry_entry || now < partition->retry_due || stopping() || held(*partition)) continue;
    auto* entry = std::exchange(partition->retry_entry, nullptr);
    auto message = std::move(*partition->retry_message);
    partition->retry_message.reset();
    process(*partition, *entry, message, partition->retry_attempt);
    if (partition->retry_entry) {
      partition->retry_message.emplace(std::move(message));  // failed again: wait longer
      continue;
    }
    if (entry->pending_acks > 0 || entry->output_failed) entry->input.emplace(std::move(message));
    resume(*partition, PauseReason::retry);
    settle(*partition);
  }
}

void KernelLoop::send_output(const Outgoing& output, const Message& input, InFlight& entry, int attempt) {
  const std::string* name = nullptr;
  std::string prefixed;
  if (output.topic().empty()) {
    name = &*settings_.output_topic;  // Context::produce() refuses a message without either
  } else {
    prefixed = settings_.topic_prefix + output.topic();
    name = &prefixed;
  }
  auto* headers = stamper_.stamp(output, &input, attempt);
  const auto& key = output.key();
  ++entry.pending_acks;
  ++pending_outputs_;
  produce_raw(producer_topic(*name), output.partition().value_or(RD_KAFKA_PARTITION_UA),
              key ? key->data() : nullptr, key ? key->size() : 0, output.value().data(), output.value().size(),
              headers, tag(&entry, false));
}

void KernelLoop::dead_letter(PartitionState& partition, InFlight& entry, const Message& input,
                             std::string_view error_class, FailureReason reason, std::string_view type,
                             std::string_view message, int retries) {
  log_->error("dead-lettering {}[{}]@{} to {}: {} ({}): {}", partition.topic, partition.partition, input.offset(),
              settings_.dlq_topic, to_string(reason), type, message);
  // The original headers, byte for byte, then where it came from and why it failed.
  auto* headers = rd_kafka_headers_new(input.headers().size() + 11);
  for (const auto& [name, value] : input.headers()) {
    rd_kafka_header_add(headers, name.c_str(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
  }
  auto add = [headers](const char* name, std::string_view value) {
    rd_kafka_header_add(headers, name, -1, value.data(), static_cast<ssize_t>(value.size()));
  };
  char stamp[24];
  add("dlq-original-topic", input.topic());
  add("dlq-original-partition", std::to_string(input.partition()));
  add("dlq-original-offset", std::to_string(input.offset()));
  TimestampFormatter::format(input.timestamp_ms(), stamp);
  add("dlq-original-timestamp", std::string_view(stamp, sizeof stamp));
  add("dlq-kernel", kernel_name_);
  TimestampFormatter::format(std::chrono::duration_cast<milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count(), stamp);
  add("dlq-failed-at", std::string_view(stamp, sizeof stamp));
  add("dlq-error-class", error_class);
  add("dlq-failure-reason", to_string(reason));
  add("dlq-error-type", type);
  add("dlq-error-message", message);
  add("dlq-retry-count", std::to_string(retries));

  const auto key = input.key();
  ++entry.pending_acks;
  ++pending_outputs_;
  entry.handled = true;
  produce_raw(dlq_topic_, RD_KAFKA_PARTITION_UA, key ? key->data() : nullptr, key ? key->size() : 0,
              input.value().data(), input.value().size(), headers, tag(&entry, true));
}

void KernelLoop::produce_raw(rd_kafka_topic_t* topic, std::int32_t partition, const void* key,
                             std::size_t key_len, const void* value, std::size_t value_len,
                             rd_kafka_headers_t* headers, void* opaque) {
  while (true) {
    // On success librdkafka owns the headers and has copied key and value.
    const auto err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE(const_cast<void*>(value), value_len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(opaque),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      // Back-pressure, not an error: let deliveries drain.
      rd_kafka_poll(producer_.get(), 10);
      continue;
    }
    // Refused before sending (too large, unknown topic...): treated like a failed delivery.
    HeadersPtr owned(headers);  // librdkafka did not take them
    bool dead_letter = false;
    auto* entry = untag(opaque, &dead_letter);
    log_->error("cannot produce to {}: {}", rd_kafka_topic_name(topic), rd_kafka_err2str(err));
    if (!dead_letter && is_permanent_produce_error(err)) {
      --pending_outputs_;
      --entry->pending_acks;
      mark_output_failed(*entry, std::string(rd_kafka_topic_name(topic)) + ": " + rd_kafka_err2str(err));
      return;
    }
    resends_.push_back(Resend{Clock::now() + retry_policy_.delay(1), rd_kafka_topic_name(topic), partition,
                              key ? std::optional<std::string>(std::string(static_cast<const char*>(key), key_len))
                                  : std::nullopt,
                              std::string(static_cast<const char*>(value), value_len), std::move(owned), opaque, 1});
    return;
  }
}

void KernelLoop::mark_output_failed(InFlight& entry, std::string reason) {
  if (!entry.output_failed) static_cast<PartitionState*>(entry.owner)->failed_outputs++;
  entry.output_failed = true;
  entry.output_error = std::move(reason);
}

void KernelLoop::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  static_cast<KernelLoop*>(opaque)->delivered(message);
}

void KernelLoop::delivered(const rd_kafka_message_t* message) {
  bool dead_letter = false;
  auto* entry = untag(message->_private, &dead_letter);
  --pending_outputs_;
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    --entry->pending_acks;
    if (metrics_) count_produced(message);
    if (hooks_.on_delivered) hooks_.on_delivered(message, dead_letter);
    settle(*static_cast<PartitionState*>(entry->owner));
    return;
  }
  const auto* topic = rd_kafka_topic_name(message->rkt);
  if (!dead_letter && is_permanent_produce_error(message->err)) {
    log_->error("output to {} failed for good ({}); the input will be dead-lettered", topic,
                rd_kafka_err2str(message->err));
    --entry->pending_acks;
    mark_output_failed(*entry, std::string(topic) + ": " + rd_kafka_err2str(message->err));
    settle(*static_cast<PartitionState*>(entry->owner));
    return;
  }
  // A passing failure (broker away, timeout): send it again later; the partition's commit
  // waits for it.
  // One line a second at most: a broker away fails every message in flight.
  const auto now = Clock::now();
  if (now - last_resend_warning_ >= std::chrono::seconds(1)) {
    log_->warn("{} to {} not delivered ({}); sending it again{}", dead_letter ? "dead letter" : "output", topic,
               rd_kafka_err2str(message->err),
               suppressed_resend_warnings_ ? fmt::format(" ({} more like it since the last report)",
                                                         suppressed_resend_warnings_)
                                           : std::string());
    last_resend_warning_ = now;
    suppressed_resend_warnings_ = 0;
  } else {
    ++suppressed_resend_warnings_;
  }
  rd_kafka_headers_t* headers = nullptr;
  HeadersPtr copy;
  if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    copy.reset(rd_kafka_headers_copy(headers));
  }
  std::optional<std::string> key;
  if (message->key) key.emplace(static_cast<const char*>(message->key), message->key_len);
  resends_.push_back(Resend{Clock::now() + retry_policy_.delay(1), topic, message->partition, std::move(key),
                            std::string(static_cast<const char*>(message->payload), message->len), std::move(copy),
                            message->_private, 1});
  ++pending_outputs_;
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
    produce_raw(producer_topic(resend.topic), resend.partition, resend.key ? resend.key->data() : nullptr,
                resend.key ? resend.key->size() : 0, resend.value.data(), resend.value.size(),
                resend.headers.release(), resend.opaque);
    // A resend refused for good marks its input for a dead letter: act on it now.
    bool dead_letter = false;
    settle(*static_cast<PartitionState*>(untag(resend.opaque, &dead_letter)->owner));
  }
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

void KernelLoop::commit_completed(bool synchronous) {
  for (auto& [key, partition] : partitions_) settle(*partition);  // anything a nested settle left
  PartitionListPtr offsets(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
  for (auto& [key, partition] : partitions_) {
    const auto offset = partition->tracker.commit_offset();
    if (offset && *offset > partition->committed) {
      rd_kafka_topic_partition_list_add(offsets.get(), partition->topic.c_str(), partition->partition)->offset = *offset;
    }
  }
  if (offsets->cnt == 0) return;
  const auto err = rd_kafka_commit(consumer_.get(), offsets.get(), synchronous ? 0 : 1);
  if (synchronous) on_commit(consumer_.get(), err, offsets.get(), this);
}

void KernelLoop::on_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                           void* opaque) {
  auto* self = static_cast<KernelLoop*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
  if (err) {
    // REBALANCE_IN_PROGRESS and friends: the next interval commits again.
    self->log_->debug("commit not accepted ({}); will retry", rd_kafka_err2str(err));
  } else if (self->metrics_) {
    self->metrics_->commits().Increment();
  }
  for (int i = 0; offsets && i < offsets->cnt; ++i) {
    const auto& tp = offsets->elems[i];
    if (tp.err || tp.offset < 0) continue;
    if (auto* partition = self->find_partition(tp.topic, tp.partition)) {
      partition->committed = std::max(partition->committed, tp.offset);
    }
  }
}

void KernelLoop::pause(PartitionState& partition, PauseReason reason) {
  const bool was_running = partition.paused == 0;
  partition.paused |= static_cast<std::uint8_t>(reason);
  if (!was_running) return;
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(), partition.partition);
  // librdkafka remembers the position after the last message we received and fetches
  // from there on resume; anything it had fetched beyond is discarded.
  rd_kafka_pause_partitions(consumer_.get(), list.get());
}

void KernelLoop::resume(PartitionState& partition, PauseReason reason) {
  partition.paused &= static_cast<std::uint8_t>(~static_cast<std::uint8_t>(reason));
  if (partition.paused != 0) return;
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(), partition.partition);
  rd_kafka_resume_partitions(consumer_.get(), list.get());
}

void KernelLoop::check_backpressure() {
  // Parked messages are bounded in bytes: past the budget, partitions that receive more are
  // paused (librdkafka drops what it prefetched for them and fetches again from after the
  // last parked message on resume).
  if (parked_bytes_ > parked_bytes_budget / 2) return;
  for (auto& [key, partition] : partitions_) {
    if (partition->paused & static_cast<std::uint8_t>(PauseReason::backpressure)) {
      resume(*partition, PauseReason::backpressure);
    }
  }
}

void KernelLoop::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                              void* opaque) {
  auto* self = static_cast<KernelLoop*>(opaque);
  const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->assign(partitions);
    if (cooperative) {
      ErrorPtr error(rd_kafka_incremental_assign(rk, partitions));
      if (error) self->log_->error("assign failed: {}", rd_kafka_error_string(error.get()));
    } else {
      rd_kafka_assign(rk, partitions);
    }
    if (self->operator_paused_) {
      // Partitions assigned while an operator pause holds start paused too.
      for (int i = 0; i < partitions->cnt; ++i) {
        if (auto* partition = self->find_partition(partitions->elems[i].topic, partitions->elems[i].partition)) {
          self->pause(*partition, PauseReason::operator_);
        }
      }
    }
    if (self->ops_ && !self->stopping()) self->ops_->set_phase(Phase::ready);  // before joined(): no window
    self->joined_.store(true);
  } else {
    self->revoke(partitions, rd_kafka_assignment_lost(rk));
    if (cooperative) {
      ErrorPtr error(rd_kafka_incremental_unassign(rk, partitions));
      if (error) self->log_->error("unassign failed: {}", rd_kafka_error_string(error.get()));
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }
  if (self->metrics_) self->metrics_->rebalances().Increment();
  self->assignment_changed_ = true;
  self->publish_due_ = {};  // show the new assignment at once
  if (self->hooks_.on_assignment_changed) self->hooks_.on_assignment_changed();
}

void KernelLoop::assign(rd_kafka_topic_partition_list_t* partitions) {
  last_state_ = nullptr;
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& tp = partitions->elems[i];
    auto state = std::make_unique<PartitionState>();
    state->topic = tp.topic;
    state->partition = tp.partition;
    if (metrics_) state->metrics = &metrics_->input_topic(state->topic);  // found once, used per message
    partitions_[{tp.topic, tp.partition}] = std::move(state);
  }
  log_->info("assigned {}", describe_partitions(partitions));
}

void KernelLoop::revoke(rd_kafka_topic_partition_list_t* partitions, bool lost) {
  last_state_ = nullptr;
  log_->info("{} {}", lost ? "lost" : "revoked", describe_partitions(partitions));
  if (!lost) {
    // Let outputs of the revoked partitions be acknowledged so their inputs can be committed
    // before another member takes over.
    const auto deadline = Clock::now() + std::min<milliseconds>(settings_.shutdown_timeout, milliseconds(10000));
    while (pending_outputs_ > 0 && Clock::now() < deadline) {
      rd_kafka_poll(producer_.get(), 10);
      resend_due();
    }
    PartitionListPtr offsets(rd_kafka_topic_partition_list_new(partitions->cnt));
    for (int i = 0; i < partitions->cnt; ++i) {
      auto* partition = find_partition(partitions->elems[i].topic, partitions->elems[i].partition);
      if (!partition) continue;
      const auto offset = partition->tracker.commit_offset();
      if (offset && *offset > partition->committed) {
        rd_kafka_topic_partition_list_add(offsets.get(), partition->topic.c_str(), partition->partition)->offset =
            *offset;
      }
    }
    if (offsets->cnt > 0) {
      const auto err = rd_kafka_commit(consumer_.get(), offsets.get(), 0);
      if (err) log_->warn("commit on revocation failed: {}", rd_kafka_err2str(err));
      else on_commit(consumer_.get(), err, offsets.get(), this);
    }
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    auto it = partitions_.find({partitions->elems[i].topic, partitions->elems[i].partition});
    if (it == partitions_.end()) continue;
    auto state = std::move(it->second);
    partitions_.erase(it);
    total_in_flight_ -= state->tracker.in_flight();
    total_parked_ -= state->parked.size();
    for (const auto& message : state->parked) parked_bytes_ -= message.value().size() + message.key().value_or("").size();
    state->parked.clear();  // not handled, not committed: the next owner gets them
    state->retry_message.reset();
    state->retry_entry = nullptr;
    // Delivery reports may still point into its entries.
    state->retired = true;
    if (state->tracker.pending_acks() > 0) retired_.push_back(std::move(state));
  }
}

void KernelLoop::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KernelLoop*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__AUTHENTICATION || code == RD_KAFKA_RESP_ERR__SSL ||
      code == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED) {
    if (!self->joined()) {
      self->startup_failure_reason_ = std::string("authentication or TLS refused by ") +
                                      self->settings_.bootstrap_servers + ": " + kernel::mask_secrets(reason);
      self->startup_failure_.store(exit_code::no_permission);
    }
    self->log_->error("{}: {}", rd_kafka_name(rk), kernel::mask_secrets(reason));
    return;
  }
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    std::array<char, 512> text{};
    rd_kafka_fatal_error(rk, text.data(), text.size());
    self->log_->critical("fatal librdkafka error: {}", text.data());
    self->exit_code_ = exit_code::software;
    self->request_stop();
    return;
  }
  // All brokers down, transport errors: librdkafka reconnects on its own.
  self->log_->warn("{}: {}", rd_kafka_name(rk), kernel::mask_secrets(reason));
}

std::map<std::pair<std::string, std::int32_t>, std::int64_t> KernelLoop::committed_offsets() const {
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> out;
  for (const auto& [key, partition] : partitions_) out[key] = partition->committed;
  return out;
}

int KernelLoop::shutdown() {
  if (ops_) ops_->set_phase(Phase::stopping);  // /readyz: 503 from now on
  log_->info("stopping: finishing {} in-flight messages", total_in_flight_);
  // Messages waiting for a retry are not finished: they stay uncommitted and are delivered
  // again. Stop fetching everything.
  {
    PartitionListPtr all(rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
    for (auto& [key, partition] : partitions_) {
      rd_kafka_topic_partition_list_add(all.get(), partition->topic.c_str(), partition->partition);
      partition->retry_entry = nullptr;
      partition->retry_message.reset();
      total_parked_ -= partition->parked.size();
      for (const auto& message : partition->parked) parked_bytes_ -= message.value().size() + message.key().value_or("").size();
      partition->parked.clear();
    }
    if (consumer_ && all->cnt) rd_kafka_pause_partitions(consumer_.get(), all.get());
  }
  const auto deadline = Clock::now() + settings_.shutdown_timeout - std::min<milliseconds>(settings_.shutdown_timeout / 5, milliseconds(2000));
  while (producer_ && pending_outputs_ > 0 && Clock::now() < deadline) {
    rd_kafka_poll(producer_.get(), 10);
    resend_due();
  }
  if (consumer_) commit_completed(true);
  int left = 0;
  for (auto& [key, partition] : partitions_) left += static_cast<int>(partition->tracker.in_flight());
  if (consumer_) {
    // Leaves the group so the partitions move at once.
    rd_kafka_consumer_close(consumer_.get());
  }
  if (pending_outputs_ > 0 && exit_code_ == exit_code::ok) {
    log_->error("stopped with {} outputs unacknowledged and {} messages uncommitted; they will be delivered again",
                pending_outputs_, left);
    exit_code_ = exit_code::failure;
  } else {
    log_->info("stopped ({} messages left uncommitted)", left);
  }
  return exit_code_;
}

}  // namespace kernel::detail
