// The loop itself: poll, hand each message to the chain, act on the outcome; shutdown.
#include "loop/kernel_loop.hpp"

#include <algorithm>

#include "config/pipeline_naming.hpp"
#include "config/reply_guard.hpp"
#include "core/adopt_message.hpp"
#include "core/context_access.hpp"
#include "core/partition_list.hpp"
#include "core/trace_context.hpp"
#include "kernel/middleware.hpp"
#include "log/logging.hpp"
#include "loop/batch_executor.hpp"
#include "loop/exactly_once_commits.hpp"
#include "loop/fleet_commands.hpp"
#include "loop/handler_choice.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"
#include "loop/poll_timeout.hpp"
#include "loop/worker_executor.hpp"
#include "middleware/deduplicate.hpp"

namespace kernel::detail {

namespace {

/// The kernel's middleware, with the built-in metrics layer outermost when metrics are on and
/// the kernel did not place it itself.
std::vector<ConsumerMiddleware> with_metrics_layer(std::vector<ConsumerMiddleware> middleware, bool metrics_on) {
  const bool placed = std::any_of(middleware.begin(), middleware.end(), middleware::is_metrics);
  if (metrics_on && !placed) middleware.insert(middleware.begin(), middleware::metrics());
  return middleware;
}

}  // namespace

KernelLoop::KernelLoop(Config config, const KernelSpec& spec, std::shared_ptr<spdlog::logger> logger, LoopHooks hooks,
                       Publication published)
    : config_(std::move(config)),
      chain_(spec.batch_handler ? one_message_batch(spec.batch_handler, spec.transient_errors) : spec.handler,
             with_metrics_layer(spec.middleware, published.metrics != nullptr), spec.transient_errors),
      log_(std::move(logger)),
      hooks_(std::move(hooks)),
      context_(settings().kernel_name.empty() ? spec.name : settings().kernel_name, settings().output_topic, log_),
      retries_(config_, table_, log_),
      table_(settings().max_poll_records, retries_.wake()),
      output_(*this, config_, context_.kernel_name(), log_, retries_.policy(), published.metrics),
      ops_(published.state),
      metrics_(published.metrics),
      status_(published, table_, output_, log_),
      breaker_(settings(), table_, status_, metrics_, log_),
      inline_calls_(chain_, context_, settings().handler_timeout, ops_) {
  if (const auto problems = handler_choice_problems(spec); !problems.empty()) {
    throw std::invalid_argument(problems.front());
  }
  // A batch kernel's settings (KERNEL_CONCURRENCY, KERNEL_BATCH_SIZE) were checked only if the
  // configuration knew it was one.
  if (spec.batch_handler && !settings().batch_handler) {
    throw std::invalid_argument("kernel " + context_.kernel_name() +
                                " sets KernelSpec::batch_handler but its configuration was checked for a "
                                "single-message handler: load it with defaults_of(spec), or set "
                                "Settings::batch_handler");
  }
  if (spec.batch_handler) {
    executor_ = std::make_unique<BatchExecutor>(ExecutorHost(*this), spec, settings(), context_, log_, ops_, metrics_);
  }
  configure_deduplicate(spec.middleware, settings().dedup_window);  // the chain's copies share their state
  ContextAccess::set_producer_middleware(context_, spec.producer_middleware);
  ContextAccess::set_kernel_values(context_, std::make_shared<const KernelValues>(settings().kernel_values));
  ContextAccess::set_metrics(context_, metrics_);
  if (metrics_) metrics_->count_outcomes_in_loop();
  // The kernel's own metrics: served with HTTP on, counted unserved without.
  auto own_metrics = metrics_ ? metrics_->own_metrics() : nullptr;
  if (!own_metrics) {
    own_metrics = std::make_shared<Metrics>(context_.kernel_name(),
                                            static_cast<std::size_t>(settings().metrics_max_series), log_);
  }
  if (spec.metrics) spec.metrics(*own_metrics);
  ContextAccess::set_own_metrics(context_, std::move(own_metrics));
  // A reply's reply-to (named in full) is untrusted input: a rule of its own, always on.
  ContextAccess::set_exact_topic_check(
      context_, [guard = ReplyGuard(settings())](const std::string& topic) { return guard.refusal(topic); });
  // Produce guard (pipeline naming or KERNEL_ALLOWED_TOPICS): names given to produce() get the
  // prefix, as send_output() will give them.
  if (ProduceGuard guard(settings()); guard.active()) {
    ContextAccess::set_topic_check(context_, [guard = std::move(guard), prefix = settings().topic_prefix](
                                                 const std::string& topic) { return guard.refusal(prefix + topic); });
  }
  if (ops_ && settings().handler_timeout) {
    // A slot for the loop and one for each worker (KERNEL_CONCURRENCY > 1).
    ops_->set_stuck_after(std::min<milliseconds>(*settings().handler_timeout * 3, settings().rebalance_timeout),
                          settings().concurrency > 1 ? 1 + static_cast<std::size_t>(settings().concurrency) : 1);
  }
  if (settings().concurrency > 1) {
    // Ends the loop's rd_kafka_consumer_poll() at once (or its next one) so a worker's call is
    // concluded without waiting for the poll timeout. The queue exists once start() ran, which
    // is before any call is submitted.
    auto end_poll = [this] {
      if (consumer_queue_) rd_kafka_queue_yield(consumer_queue_.get());
    };
    // After context_ is complete: the workers' contexts are copies of it.
    executor_ = std::make_unique<WorkerExecutor>(ExecutorHost(*this), settings(), chain_, context_, log_, ops_,
                                                 metrics_, std::move(end_poll));
  }
  breaker_.set_executor(executor_.get());
}

KernelLoop::~KernelLoop() { close(); }

void KernelLoop::close() noexcept {
  // Topic handles before their clients, and the clients while every member their callbacks
  // touch is still alive (destroying a consumer that was never closed closes it, which can
  // call back into this object).
  // The workers first: a running call is waited for, and calls hold consumed messages.
  executor_.reset();
  status_.release();  // it queries through the consumer
  status_.attach_fleet(nullptr);
  fleet_.reset();  // its thread and handle
  output_.release_topics();
  consumer_queue_.reset();  // holds a reference into the consumer
  // Consumed messages kept by in-flight entries (an output never acknowledged, as after a
  // fatal producer error) hold references into the consumer: its destruction waits for them.
  table_.clear();
  if (consumer_ && subscribed_ && !joined()) {
    // librdkafka before 2.3.0 asserts when a cooperative-sticky consumer is destroyed between
    // joining its group and its first assignment (its assignor state is still unset). It was
    // closed in shutdown(); the process is about to exit, so leave the handle to it.
    (void)consumer_.release();
  }
  consumer_.reset();
  output_.release_producer();
}

int KernelLoop::run() {
  commits_->start_interval(Clock::now());
  auto next_housekeeping = Clock::now();
  while (!stopping()) {
    if (hooks_.should_stop && hooks_.should_stop()) break;
    // Short polls while work is pending so delivery reports, resends, collected batches and
    // workers' calls are served promptly; no longer than until the loop's own next work is due.
    const PollWait wait{output_.busy() || (executor_ && executor_->busy()), retries_.next_due()};
    MessagePtr raw{rd_kafka_consumer_poll(consumer_.get(), poll_timeout(wait, Clock::now()))};
    const bool polled = raw != nullptr;
    if (raw) handle(std::move(raw));
    if (executor_) executor_->conclude_returned();
    rd_kafka_poll(output_.producer(), 0);
    if (commits_->must_abort()) commit_answered(commits_->abort());
    drain_parked();
    if (!polled && table_.waiting_for_room(output_.pending())) {
      // Nothing new, and a partition at its in-flight cap waits for acknowledgements that
      // librdkafka would hold back for linger.ms (KAFKA_PRODUCER_BATCH_TIMEOUT) to fill a
      // batch no more inputs can add to. Flushing sends them now and returns as soon as every
      // output is acknowledged (at most busy_poll_ms, as the poll would have waited); the
      // delivery reports it serves make room at once.
      rd_kafka_flush(output_.producer(), busy_poll_ms);
      if (commits_->must_abort()) commit_answered(commits_->abort());
      drain_parked();
    }
    if (exit_code_ != exit_code::ok) break;

    const auto now = Clock::now();
    status_.serve(now, executor_.get());  // liveness, and an operator's pause or resume
    if (now >= next_housekeeping || now >= retries_.next_due()) {
      next_housekeeping = now + milliseconds(10);
      status_.publish_if_due(now, consumer_.get(), breaker_);
      if (auto* probe = breaker_.tick(now, stopping())) retry_now(*probe);
      // Found again by the next three (work scheduled meanwhile adds itself with wake_at()).
      retries_.wake().begin_round();
      run_due_retries();
      if (!stopping()) commits_->tick(now);
      if (executor_) retries_.wake_at(executor_->tick(now));
      output_.resend_due();
      table_.relieve_backpressure();
      table_.release_retired();
      if (rd_kafka_fatal_error(output_.producer(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        stop_on_fatal_error(output_.producer());
        break;
      }
      commit_answered(commits_->commit_if_due(now));
    }
  }
  return shutdown();
}

void KernelLoop::handle(MessagePtr raw) {
  if (raw->err) {
    if (raw->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    if (raw->err == RD_KAFKA_RESP_ERR__FATAL) {
      stop_on_fatal_error(consumer_.get());
      return;
    }
    log_->warn("consumer: {}", rd_kafka_message_errstr(raw.get()));
    return;
  }
  auto* partition = table_.of(raw.get());
  // Not ours any more, or already handled (a redelivery after a seek): drop it.
  if (!partition || raw->offset < partition->next_offset) return;
  if (partition->paused.any()) {
    // librdkafka normally holds back a paused partition's messages; if one arrives anyway,
    // rewind so it is fetched again on resume rather than skipped.
    rd_kafka_seek(raw->rkt, raw->partition, raw->offset, 0);
    return;
  }
  auto message = adopt_message(std::move(raw));
  partition->next_offset = message.offset() + 1;
  if (partition->start_offset < 0) partition->start_offset = message.offset();
  if (partition->metrics) partition->metrics->consumed->Increment();
  if (!partition->parked.empty() || partition->retry_entry || !table_.has_room(*partition)) {
    table_.park(*partition, std::move(message));  // at the in-flight cap: handled in order later
    return;
  }
  handle_now(*partition, std::move(message));
}

void KernelLoop::handle_now(PartitionState& partition, Message message) {
  auto& entry = table_.begin(partition, message.offset());
  if (retries_.wait_until_due(partition, entry, message)) return;  // a retry topic's head, not due yet
  if (auto* exactly_once = commits_->exactly_once(); exactly_once && !partition.undeliverable.empty()) {
    // An output of it failed for good in an aborted transaction: dead-lettered, not handled again.
    if (auto reason = ExactlyOnceCommits::take_undeliverable(partition, entry.offset)) {
      if (partition.metrics) partition.metrics->count(HandledOutcome::dead_lettered);
      output_.dead_letter(partition, entry, message, "permanent", FailureReason::output_failed, "kernel::OutputError",
                          *reason, entry.retries);
      settle(partition);
      return;
    }
  }
  if (executor_ && executor_->collect(partition, entry, message)) return;  // a batch collects it
  process(partition, entry, message, retries_.level(partition) + 1);
  if (!entry.handled && partition.retry_entry == &entry) {
    partition.retry_message.emplace(std::move(message));
  } else if ((entry.pending_acks > 0 || entry.output_failed) && !entry.input) {
    entry.input.emplace(std::move(message));  // kept in case an output fails for good
  }
  settle(partition);
}

void KernelLoop::drain_parked() {
  if (table_.parked() == 0) return;
  for (auto& [key, partition] : table_.assigned()) {
    if (PartitionTable::held(*partition)) continue;  // an operator or a breaker holds it: nothing new is handled
    while (exit_code_ == exit_code::ok) {
      auto message = table_.unpark(*partition);
      if (!message) break;
      handle_now(*partition, std::move(*message));
    }
  }
}

void KernelLoop::process(PartitionState& partition, InFlight& entry, Message& message, int attempt) {
  if (executor_ && executor_->take(partition, entry, message, attempt)) return;  // concluded when a worker is done
  ScopedLogContext scope(partition.topic, partition.partition, message.offset());
  const TraceScope trace(message);  // its lines carry the trace, the loop's after the call too
  Outcome outcome = inline_calls_.call(partition, message, attempt);
  const auto disposition = disposition_of(partition, message, outcome, attempt, true);
  conclude(partition, entry, message, outcome, attempt, disposition, context_.produced(),
           &ContextAccess::completion_actions(context_));
  if (waits(disposition)) retries_.keep(partition, entry, disposition);
}

void KernelLoop::run_due_retries() {
  const auto now = Clock::now();
  for (auto& [key, partition] : table_.assigned()) {
    if (stopping() || PartitionTable::held(*partition) || !retries_.due(*partition, now)) continue;
    retry_now(*partition);
  }
}

void KernelLoop::retry_now(PartitionState& partition) {
  auto* entry = std::exchange(partition.retry_entry, nullptr);
  auto message = std::move(*partition.retry_message);
  partition.retry_message.reset();
  process(partition, *entry, message, partition.retry_attempt);
  if (partition.retry_entry) {
    partition.retry_message.emplace(std::move(message));  // failed again: waits again
    return;
  }
  if (entry->pending_acks > 0 || entry->output_failed) entry->input.emplace(std::move(message));
  table_.resume(partition, PauseReason::retry);
  settle(partition);
}

}  // namespace kernel::detail
