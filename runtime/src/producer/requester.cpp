// kernel::Requester: requests through a kernel::Producer, replies read by a thread of its own
// and matched by correlation id to a bounded table of waiting promises.
#include "kernel/requester.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <librdkafka/rdkafka.h>

#include "config/settings.hpp"
#include "core/adopt_message.hpp"
#include "kernel/errors.hpp"
#include "kernel/headers.hpp"
#include "log/logging.hpp"
#include "loop/standard_headers.hpp"
#include "producer/reply_consumer.hpp"

namespace kernel {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// A correlation id longer than this is none of ours (ours are UUIDs): dropped unread.
constexpr std::size_t max_correlation_id = 64;

/// A longer timeout is taken as this one: a deadline of now + milliseconds::max() overflows.
constexpr milliseconds max_timeout = std::chrono::hours(24);

/// A reply the caller keeps: its own copy of the record, so that it may outlive the consumer.
Message copy_of(const Message& record) {
  std::optional<std::string> key;
  if (record.key()) key.emplace(*record.key());
  return Message(std::string(record.topic()), record.partition(), record.offset(), std::move(key),
                 std::string(record.value()), record.headers(), record.timestamp());
}

template <class Error>
void fail(std::promise<Message>& promise, Error error) {
  promise.set_exception(std::make_exception_ptr(std::move(error)));
}

}  // namespace

/// The requester's metrics on the caller's registry.
struct RequesterMetrics {
  RequesterMetrics(prometheus::Registry& registry, const std::string& name)
      : requests(prometheus::BuildCounter()
                     .Name("kernel_requester_requests_total")
                     .Help("Requests a kernel::Requester made, by result (replied, timed_out, failed)")
                     .Register(registry)),
        replied(requests.Add({{"requester", name}, {"result", "replied"}})),
        timed_out(requests.Add({{"requester", name}, {"result", "timed_out"}})),
        failed(requests.Add({{"requester", name}, {"result", "failed"}})),
        dropped(prometheus::BuildCounter()
                    .Name("kernel_requester_replies_dropped_total")
                    .Help("Replies read and dropped: late (after their request timed out) or unknown")
                    .Register(registry)),
        late(dropped.Add({{"requester", name}, {"reason", "late"}})),
        unknown(dropped.Add({{"requester", name}, {"reason", "unknown"}})),
        in_flight(prometheus::BuildGauge()
                      .Name("kernel_requester_in_flight")
                      .Help("Requests waiting for their reply")
                      .Register(registry)
                      .Add({{"requester", name}})),
        round_trip(
            prometheus::BuildHistogram()
                .Name("kernel_requester_round_trip_seconds")
                .Help("From request() to its reply")
                .Register(registry)
                .Add({{"requester", name}}, prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.025, 0.05,
                                                                                    0.1, 0.25, 0.5, 1, 2.5, 5, 10})) {}
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Counter& replied;
  prometheus::Counter& timed_out;
  prometheus::Counter& failed;
  prometheus::Family<prometheus::Counter>& dropped;
  prometheus::Counter& late;
  prometheus::Counter& unknown;
  prometheus::Gauge& in_flight;
  prometheus::Histogram& round_trip;
};

struct Requester::State {
  /// A request waiting for its reply.
  struct Waiting {
    std::promise<Message> promise;
    Clock::time_point sent_at;
    std::multimap<Clock::time_point, std::string>::iterator deadline;
    std::string topic;
    milliseconds timeout;
  };

  State(const Config& config, RequesterOptions chosen)
      : options(std::move(chosen)),
        producer(config, options.producer),
        name(config.settings().kernel_name.empty() ? "requester" : config.settings().kernel_name),
        topic(detail::reply_topic_name(config.settings(), name, options.reply_topic, options.instance)),
        log(detail::make_logger(name, std::string(to_string(config.settings().log_level)),
                                std::string(to_string(config.settings().log_format)), config.secret_value_redactor())) {
    if (options.producer.metrics) metrics = std::make_unique<RequesterMetrics>(*options.producer.metrics, name);
    if (options.reply_topic.empty() && options.instance.empty()) {
      // A Deployment's pods get a new name per rollout: a new topic each time, the old left behind.
      log->warn(
          "requester {}: reply topic {} is named after the host name; where that changes (a Kubernetes "
          "Deployment) set RequesterOptions::instance to a stable name (docs/producer.md)",
          name, topic);
    }
    consumer = detail::open_reply_consumer(config, topic, options.start_timeout, log);
    poller = std::thread([this] { read_replies(); });
  }

  ~State() {
    stopping = true;
    poller.join();
    std::unordered_map<std::string, Waiting> left;
    {
      std::lock_guard lock(mutex);
      left.swap(waiting);
      by_deadline.clear();
    }
    for (auto& [id, request] : left) {
      if (metrics) {
        metrics->failed.Increment();
        metrics->in_flight.Decrement();
      }
      fail(request.promise, TransientError("requester " + name + " closed before the reply to its request to " +
                                           request.topic + " came"));
    }
    rd_kafka_consumer_close(consumer.get());
  }

  std::future<Message> request(const std::string& to, Outgoing message, milliseconds timeout) {
    std::promise<Message> promise;
    auto future = promise.get_future();
    if (stopping.load()) {
      if (metrics) metrics->failed.Increment();
      fail(promise, TransientError("requester " + name + " is closing"));
      return future;
    }
    timeout = std::clamp(timeout, milliseconds(1), max_timeout);
    // Readers take a header's last value and the stamper writes the caller's headers after the
    // standard ones: a correlation-id of the caller's (a gateway forwarding its own) would win
    // over the requester's and its reply would never match. Both are the requester's to set.
    message.erase_header(header::correlation_id).erase_header(header::reply_to);
    std::string id(36, '\0');
    const auto now = Clock::now();
    {
      std::lock_guard lock(mutex);
      if (waiting.size() >= options.max_in_flight) {
        if (metrics) metrics->failed.Increment();
        fail(promise, TransientError("requester " + name + ": " + std::to_string(waiting.size()) +
                                     " requests already wait for their reply (RequesterOptions::max_in_flight): "
                                     "try again later"));
        return future;
      }
      // A repeated id (never seen, but not impossible) would leave two deadlines for one entry.
      do {
        uuids.next(id.data());
      } while (waiting.contains(id));
      auto deadline = by_deadline.emplace(now + timeout, id);
      waiting.emplace(id, Waiting{std::move(promise), now, deadline, to.empty() ? message.topic() : to, timeout});
      if (metrics) metrics->in_flight.Increment();  // before its reply can decrement it
    }
    message.correlation_id(id).header(std::string(header::reply_to), topic);
    auto delivery = producer.send(to, std::move(message));
    if (delivery.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      sent(id, delivery.get());  // refused before sending: an invalid topic, the produce guard
    } else {
      std::lock_guard lock(mutex);
      unconfirmed.emplace_back(std::move(id), std::move(delivery));
    }
    return future;
  }

  /// The reply thread: reads replies, and fails the requests past their deadline or whose
  /// record was not delivered.
  void read_replies() {
    auto next_check = Clock::now();
    while (!stopping.load(std::memory_order_relaxed)) {
      // An exception here would end the process (std::terminate on this thread): logged instead,
      // and the thread goes on so that the requests still waiting get their reply or timeout.
      try {
        // Returns as soon as a reply is there: the timeout bounds only how late a deadline is seen.
        if (detail::MessagePtr record{rd_kafka_consumer_poll(consumer.get(), 10)}) on_record(std::move(record));
        if (const auto now = Clock::now(); now >= next_check) {
          expire(now);
          check_deliveries();
          next_check = now + milliseconds(10);
        }
      } catch (const std::exception& error) {
        log->error("requester {}: reading replies from {}: {}", name, topic, error.what());
      }
    }
  }

  void on_record(detail::MessagePtr record) {
    if (record->err) {
      if (record->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        log->warn("requester {}: reading replies from {}: {}", name, topic, rd_kafka_message_errstr(record.get()));
      }
      return;
    }
    const auto reply = detail::adopt_message(std::move(record));
    const auto id = reply.header(header::correlation_id);
    std::optional<Waiting> matched;
    bool late = false;
    if (id && !id->empty() && id->size() <= max_correlation_id) {
      const std::string key(*id);
      std::lock_guard lock(mutex);
      if (auto it = waiting.find(key); it != waiting.end()) {
        matched.emplace(std::move(it->second));
        by_deadline.erase(matched->deadline);
        waiting.erase(it);
      } else {
        late = expired.erase(key) > 0;  // answered once: a second reply to it is unknown
      }
    }
    if (!matched) {
      if (metrics) (late ? metrics->late : metrics->unknown).Increment();
      log->debug("requester {}: dropped a {} reply at {}[{}]@{}", name, late ? "late" : "unknown", topic,
                 reply.partition(), reply.offset());
      return;
    }
    if (metrics) {
      metrics->replied.Increment();
      metrics->in_flight.Decrement();
      metrics->round_trip.Observe(std::chrono::duration<double>(Clock::now() - matched->sent_at).count());
    }
    matched->promise.set_value(copy_of(reply));
  }

  /// Fails the requests past their deadline; their ids are kept a while to tell a late reply.
  void expire(Clock::time_point now) {
    std::vector<Waiting> due;
    {
      std::lock_guard lock(mutex);
      while (!by_deadline.empty() && by_deadline.begin()->first <= now) {
        auto it = waiting.find(by_deadline.begin()->second);
        remember_expired(by_deadline.begin()->second);
        by_deadline.erase(by_deadline.begin());
        if (it == waiting.end()) continue;  // cannot happen (ids are unique): never dereferenced
        due.push_back(std::move(it->second));
        waiting.erase(it);
      }
    }
    for (auto& request : due) {
      if (metrics) {
        metrics->timed_out.Increment();
        metrics->in_flight.Decrement();
      }
      fail(request.promise, TransientError("request to " + request.topic + ": no reply within " +
                                               std::to_string(request.timeout.count()) + " ms",
                                           FailureReason::timeout));
    }
  }

  /// Bounded like the table: the oldest id is forgotten first (its reply then counts as unknown).
  void remember_expired(const std::string& id) {
    if (expired_order.size() >= std::max<std::size_t>(options.max_in_flight, 1)) {
      expired.erase(expired_order.front());
      expired_order.pop_front();
    }
    expired.insert(id);
    expired_order.push_back(id);
  }

  /// The records whose delivery was not known when they were sent: a refusal fails its request.
  void check_deliveries() {
    std::vector<std::pair<std::string, DeliveryResult>> done;
    {
      std::lock_guard lock(mutex);
      std::erase_if(unconfirmed, [&](auto& each) {
        if (each.second.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
        done.emplace_back(std::move(each.first), each.second.get());
        return true;
      });
    }
    for (auto& [id, result] : done) sent(id, result);
  }

  /// What became of a request's record: nothing to do when delivered, else its request fails.
  void sent(const std::string& id, const DeliveryResult& result) {
    if (result.ok()) return;
    std::optional<Waiting> request;
    {
      std::lock_guard lock(mutex);
      auto it = waiting.find(id);
      if (it == waiting.end()) return;  // answered or expired already
      request.emplace(std::move(it->second));
      by_deadline.erase(request->deadline);
      waiting.erase(it);
    }
    if (metrics) {
      metrics->failed.Increment();
      metrics->in_flight.Decrement();
    }
    const auto text = "request to " + result.topic + " not sent: " + result.message;
    if (result.transient) {
      fail(request->promise, TransientError(text));
    } else {
      fail(request->promise, PermanentError(text, result.error.value() == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED
                                                      ? FailureReason::topic_not_allowed
                                                      : FailureReason::processing_error));
    }
  }

  RequesterOptions options;
  Producer producer;
  std::string name;
  std::string topic;  // the reply topic, as the brokers know it
  std::shared_ptr<spdlog::logger> log;
  std::unique_ptr<RequesterMetrics> metrics;
  detail::HandlePtr consumer;
  mutable std::mutex mutex;  // guards what follows, up to `stopping`
  detail::UuidGenerator uuids;
  std::unordered_map<std::string, Waiting> waiting;           // by correlation id
  std::multimap<Clock::time_point, std::string> by_deadline;  // the same requests, by deadline
  std::vector<std::pair<std::string, std::future<DeliveryResult>>> unconfirmed;
  std::unordered_set<std::string> expired;  // ids timed out lately, to tell a late reply from an unknown one
  std::deque<std::string> expired_order;
  std::atomic<bool> stopping{false};
  std::thread poller;
};

Requester Requester::from_environment(const std::string& name, const Environment& environment,
                                      RequesterOptions options) {
  KernelDefaults defaults{name, {}, std::nullopt};
  defaults.consumes = false;
  return Requester(Config::load(defaults, environment), std::move(options));
}

Requester::Requester(const Config& config, RequesterOptions options)
    : state_(std::make_unique<State>(config, std::move(options))) {}

Requester::~Requester() = default;
Requester::Requester(Requester&&) noexcept = default;
Requester& Requester::operator=(Requester&&) noexcept = default;

std::future<Message> Requester::request(const std::string& topic, Outgoing message, milliseconds timeout) {
  return state_->request(topic, std::move(message), timeout);
}

std::size_t Requester::in_flight() const {
  std::lock_guard lock(state_->mutex);
  return state_->waiting.size();
}

const std::string& Requester::reply_topic() const noexcept { return state_->topic; }

Producer& Requester::producer() noexcept { return state_->producer; }

}  // namespace kernel
