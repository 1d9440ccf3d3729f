// kernel::Producer: one idempotent librdkafka producer on a kernel's configuration, a thread
// serving its delivery reports, and a promise per record.
#include "kernel/producer.hpp"

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <librdkafka/rdkafka.h>

#include "config/pipeline_naming.hpp"
#include "config/settings.hpp"
#include "core/context_access.hpp"
#include "core/refusal.hpp"
#include "kernel/detail/rdkafka_client.hpp"
#include "kernel/exit_codes.hpp"
#include "log/client_errors.hpp"
#include "log/logging.hpp"
#include "loop/produce_errors.hpp"
#include "loop/standard_headers.hpp"
#include "producer/producer_topics.hpp"

namespace kernel {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// One record on its way: what its delivery report resolves, a promise or a callback.
struct Pending {
  std::optional<std::promise<DeliveryResult>> promise;
  DeliveryCallback done;
  Clock::time_point sent_at;

  void resolve(DeliveryResult result) {
    if (done) {
      done(std::move(result));
    } else {
      promise->set_value(std::move(result));
    }
  }
};

DeliveryResult failure(std::string topic, int code, std::string message, bool transient) {
  DeliveryResult result;
  result.topic = std::move(topic);
  result.error = make_rdkafka_error_code(code);
  result.message = std::move(message);
  result.transient = transient;
  return result;
}

std::future<DeliveryResult> future_of(Pending& pending) {
  pending.promise.emplace();
  return pending.promise->get_future();
}

}  // namespace

/// The producer's own metrics on the caller's registry.
struct ProducerMetrics {
  explicit ProducerMetrics(prometheus::Registry& registry, const std::string& name)
      : records(prometheus::BuildCounter()
                    .Name("kernel_producer_records_total")
                    .Help("Records a kernel::Producer sent, by result (delivered, failed)")
                    .Register(registry)),
        delivered(records.Add({{"producer", name}, {"result", "delivered"}})),
        failed(records.Add({{"producer", name}, {"result", "failed"}})),
        in_flight(prometheus::BuildGauge()
                      .Name("kernel_producer_in_flight")
                      .Help("Records a kernel::Producer sent and not yet acknowledged or failed")
                      .Register(registry)
                      .Add({{"producer", name}})),
        latency(prometheus::BuildHistogram()
                    .Name("kernel_producer_delivery_seconds")
                    .Help("From send() to the broker's acknowledgement")
                    .Register(registry)
                    .Add({{"producer", name}}, prometheus::Histogram::BucketBoundaries{
                                                   0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})) {}
  prometheus::Family<prometheus::Counter>& records;
  prometheus::Counter& delivered;
  prometheus::Counter& failed;
  prometheus::Gauge& in_flight;
  prometheus::Histogram& latency;
};

struct Producer::State {
  State(const Config& loaded, ProducerOptions chosen)
      : config(loaded),
        options(chosen),
        name(config.settings().kernel_name.empty() ? "producer" : config.settings().kernel_name),
        stamper(name) {
    const auto& settings = config.settings();
    log = detail::make_logger(name, std::string(to_string(settings.log_level)),
                              std::string(to_string(settings.log_format)), config.secret_value_redactor());
    for (const auto& warning : config.warnings()) log->warn("{}", warning);
    if (options.metrics) metrics = std::make_unique<ProducerMetrics>(*options.metrics, name);
    detail::ConfPtr conf(rd_kafka_conf_new());
    std::array<char, 512> error{};
    for (const auto& property : config.producer_properties()) {
      if (rd_kafka_conf_set(conf.get(), property.name.c_str(), property.value.c_str(), error.data(), error.size()) !=
          RD_KAFKA_CONF_OK) {
        throw ConfigError(
            {"config error: " + (property.variable.empty() ? property.name : property.variable) + ": " + error.data()});
      }
    }
    detail::route_rdkafka_logs(conf.get(), log);
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &State::on_delivery);
    rd_kafka_conf_set_error_cb(conf.get(), &State::on_error);
    auto client = detail::create_client(detail::ClientType::producer, conf);
    if (!client) throw ConfigError({"config error: " + client.message});
    handle = std::move(client.handle);
    topics.emplace(config.settings(), handle.get());
    poller = std::thread([this] {
      while (!stopping.load(std::memory_order_relaxed)) rd_kafka_poll(handle.get(), 100);
    });
  }

  ~State() {
    const auto left = flush(options.close_timeout);
    if (left > 0) {
      log->error("producer {} closed with {} not delivered within {} ms: they are lost unless sent again", name, left,
                 options.close_timeout.count());
      // Their promises are resolved by the purge's delivery reports (__PURGE_QUEUE/__PURGE_INFLIGHT).
      rd_kafka_purge(handle.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_poll(handle.get(), 0);
    }
    stopping = true;
    poller.join();
    // The purge's reports, served here: every future is resolved before the client goes.
    for (int round = 0; round < 100 && in_flight.load() > 0; ++round) rd_kafka_poll(handle.get(), 10);
  }

  /// Waits up to `timeout` for every record in flight; returns how many are left.
  std::size_t flush(milliseconds timeout) {
    rd_kafka_flush(handle.get(), static_cast<int>(std::max<long long>(0, timeout.count())));
    return in_flight.load();
  }

  /// Queues `message`, or resolves `pending` at once with why not.
  void send(const std::string& topic, const Outgoing& message, const Message* input, std::unique_ptr<Pending> pending) {
    const auto& named = topic.empty() ? message.topic() : topic;
    if (named.empty()) {
      return pending->resolve(failure("", RD_KAFKA_RESP_ERR__INVALID_ARG,
                                      "no topic: give send() a topic, or the message one with Outgoing::topic()",
                                      false));
    }
    if (message.unregistered_protobuf() != nullptr || !message.unregistered_avro().empty()) {
      // Its schema id is a placeholder that a kernel's produce() fills in: sent as it is, every
      // reader would look up schema 0.
      return pending->resolve(failure(named, RD_KAFKA_RESP_ERR__INVALID_ARG,
                                      "a value of Outgoing::protobuf() or Outgoing::avro() carries its schema id "
                                      "only once a kernel's produce() registers it; kernel::Producer does not "
                                      "register schemas: send it from a kernel, or frame the value yourself "
                                      "and send it with Outgoing::bytes()",
                                      false));
    }
    detail::ProducerTopic overflow;
    const detail::ProducerTopic* target = nullptr;
    detail::HeadersPtr headers;
    {
      // The topic cache, the id generator and the clock are one per producer.
      std::lock_guard lock(send_mutex);
      target = &topics->resolve(named, topic.empty() && message.topic_is_exact(), overflow);
      if (target->refusal.empty()) headers = stamper.stamp(message, input, 1);
    }
    if (!target->refusal.empty()) {
      return pending->resolve(failure(target->full_name, target->refusal_code, target->refusal, false));
    }
    pending->sent_at = Clock::now();
    const auto& key = message.key();
    const void* key_data = key ? key->data() : nullptr;
    const std::size_t key_size = key ? key->size() : 0;
    const auto deadline = pending->sent_at + options.queue_timeout;
    in_flight.fetch_add(1);
    if (metrics) metrics->in_flight.Increment();
    while (true) {
      const auto err = rd_kafka_producev(
          handle.get(), RD_KAFKA_V_RKT(target->handle.get()),
          RD_KAFKA_V_PARTITION(message.partition().value_or(RD_KAFKA_PARTITION_UA)), RD_KAFKA_V_KEY(key_data, key_size),
          RD_KAFKA_V_VALUE(const_cast<char*>(message.value().data()), message.value().size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_OPAQUE(pending.get()),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        (void)headers.release();  // the record owns them now
        (void)pending.release();  // resolved and freed by its delivery report
        return;
      }
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && Clock::now() < deadline) {
        // Back-pressure: the poller serves delivery reports, which make room.
        std::this_thread::sleep_for(milliseconds(1));
        continue;
      }
      in_flight.fetch_sub(1);
      if (metrics) {
        metrics->in_flight.Decrement();
        metrics->failed.Increment();
      }
      const bool full_queue = err == RD_KAFKA_RESP_ERR__QUEUE_FULL;
      const auto kind = detail::classify_produce_error(err);
      return pending->resolve(
          failure(target->full_name, err,
                  full_queue ? "the local queue stayed full for " + std::to_string(options.queue_timeout.count()) +
                                   " ms (the brokers are slower than the sends, or away): send it again later"
                             : std::string(rd_kafka_err2str(err)),
                  full_queue || kind == detail::ProduceErrorKind::passing));
    }
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* report, void* opaque) {
    auto* self = static_cast<State*>(opaque);
    std::unique_ptr<Pending> pending(static_cast<Pending*>(report->_private));
    if (!pending) return;
    DeliveryResult result;
    result.topic = rd_kafka_topic_name(report->rkt);
    result.partition = report->partition;
    if (report->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      result.offset = report->offset;
    } else {
      result.error = make_rdkafka_error_code(report->err);
      result.message = rd_kafka_err2str(report->err);
      result.transient = detail::classify_produce_error(report->err) == detail::ProduceErrorKind::passing;
    }
    if (self->metrics) {
      self->metrics->in_flight.Decrement();
      if (result.ok()) {
        self->metrics->delivered.Increment();
        self->metrics->latency.Observe(std::chrono::duration<double>(Clock::now() - pending->sent_at).count());
      } else {
        self->metrics->failed.Increment();
      }
    }
    try {
      pending->resolve(std::move(result));
    } catch (const std::exception& error) {  // a caller's callback: it must not unwind into librdkafka
      self->log->error("producer {}: a delivery callback threw: {}", self->name, error.what());
    } catch (...) {
      self->log->error("producer {}: a delivery callback threw", self->name);
    }
    self->in_flight.fetch_sub(1);
  }

  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<State*>(opaque);
    if (detail::log_client_error(*self->log, "producer " + self->name, err, reason, false) ==
        detail::ClientErrorKind::fatal) {
      std::array<char, 512> text{};
      rd_kafka_fatal_error(rk, text.data(), text.size());
      self->log->critical("producer {}: fatal error: {}; nothing more can be sent", self->name, text.data());
    }
  }

  Config config;
  ProducerOptions options;
  std::string name;
  std::shared_ptr<spdlog::logger> log;
  std::unique_ptr<ProducerMetrics> metrics;
  std::mutex send_mutex;
  detail::HeaderStamper stamper;
  detail::HandlePtr handle;
  std::optional<detail::ProducerTopics> topics;  // after `handle`: its topic handles go first
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> stopping{false};
  std::thread poller;
};

Producer Producer::from_environment(const std::string& name, const Environment& environment, ProducerOptions options) {
  KernelDefaults defaults{name, {}, std::nullopt};
  defaults.consumes = false;
  return Producer(Config::load(defaults, environment), options);
}

Producer Producer::from_environment_or_exit(const std::string& name, ProducerOptions options) {
  try {
    return from_environment(name, process_environment(), options);
  } catch (const ConfigError& error) {
    std::cerr << error.what() << '\n';
    std::exit(exit_code::config);
  }
}

Producer::Producer(const Config& config, ProducerOptions options) : state_(std::make_unique<State>(config, options)) {}

Producer::~Producer() = default;
Producer::Producer(Producer&&) noexcept = default;
Producer& Producer::operator=(Producer&&) noexcept = default;

std::future<DeliveryResult> Producer::send(const std::string& topic, Outgoing message) {
  auto pending = std::make_unique<Pending>();
  auto future = future_of(*pending);
  state_->send(topic, message, nullptr, std::move(pending));
  return future;
}

std::future<DeliveryResult> Producer::send(const std::string& topic, Outgoing message, const Context& context) {
  auto pending = std::make_unique<Pending>();
  auto future = future_of(*pending);
  state_->send(topic, message, detail::ContextAccess::input(context), std::move(pending));
  return future;
}

void Producer::send(const std::string& topic, Outgoing message, DeliveryCallback done) {
  auto pending = std::make_unique<Pending>();
  pending->done = std::move(done);
  state_->send(topic, message, nullptr, std::move(pending));
}

DeliveryResult Producer::send_and_wait(const std::string& topic, Outgoing message, milliseconds timeout) {
  auto named = topic.empty() && message.topic_is_exact()
                   ? message.topic()
                   : state_->config.settings().topic_prefix + (topic.empty() ? message.topic() : topic);
  auto future = send(topic, std::move(message));
  if (future.wait_for(timeout) == std::future_status::ready) return future.get();
  return failure(std::move(named), RD_KAFKA_RESP_ERR__TIMED_OUT,
                 "not acknowledged within " + std::to_string(timeout.count()) +
                     " ms; it may still be delivered (its outcome comes later)",
                 true);
}

bool Producer::flush(milliseconds timeout) { return state_->flush(timeout) == 0; }

std::size_t Producer::in_flight() const noexcept { return state_->in_flight.load(); }

bool Producer::healthy(milliseconds timeout) const {
  if (rd_kafka_fatal_error(state_->handle.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  const rd_kafka_metadata_t* metadata = nullptr;
  const auto err = rd_kafka_metadata(state_->handle.get(), 0, nullptr, &metadata,
                                     static_cast<int>(std::max<long long>(1, timeout.count())));
  if (metadata) rd_kafka_metadata_destroy(metadata);
  return err == RD_KAFKA_RESP_ERR_NO_ERROR;
}

}  // namespace kernel
