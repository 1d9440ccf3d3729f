#pragma once
// bench/latency's load generator: produces inputs lat-<seq> on a fixed schedule (input i is due
// at start + i / rate), in 1 ms ticks, and records for each input when it was produced (its
// CreateTime, to the microsecond), how late that was against its schedule, and when the broker
// acknowledged it. Everything a message needs is prepared before the clock starts, so a tick
// costs one rd_kafka_producev() per input and nothing else.
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "kernel/detail/rdkafka_handles.hpp"

namespace bench {

/// Wall-clock microseconds: CreateTime is wall-clock, and so is the reader's arrival stamp.
inline long long wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// CPU time of the calling thread, in seconds.
inline double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

/// The inputs of one run, indexed by sequence number, and what happened to each.
struct Inputs {
  std::vector<std::string> keys, values;
  std::vector<long long> created_us;  // CreateTime (produce call), 0 until produced
  std::vector<long long> acked_us;    // the broker's acknowledgement, 0 until then
  std::vector<long long> late_us;     // produce call minus its schedule (paced inputs only)
};

/// The outcome of one paced run.
struct PacedRun {
  double seconds = 0;      // first produce call to the last one
  double cpu_seconds = 0;  // the producing thread's own CPU (librdkafka's threads not included)
  long long failed = 0;    // inputs whose delivery failed
};

class PacedProducer {
 public:
  /// A producer on `servers` writing `topic`, batching for `linger_ms` (the input side's own
  /// latency: every input waits up to this long before it is sent).
  PacedProducer(const std::string& servers, const std::string& topic, int linger_ms, Inputs& inputs) : inputs_(inputs) {
    kernel::detail::ConfPtr conf(rd_kafka_conf_new());
    const std::array<std::pair<const char*, std::string>, 4> settings{{{"bootstrap.servers", servers},
                                                                       {"linger.ms", std::to_string(linger_ms)},
                                                                       {"log_level", "3"},
                                                                       {"queue.buffering.max.messages", "1000000"}}};
    char error[512];
    for (const auto& [name, value] : settings) {
      if (rd_kafka_conf_set(conf.get(), name, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
        throw std::runtime_error(error);
      }
    }
    rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
    rd_kafka_conf_set_opaque(conf.get(), this);
    handle_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof error));
    if (!handle_) throw std::runtime_error(error);
    conf.release();  // owned by the handle now
    topic_.reset(rd_kafka_topic_new(handle_.get(), topic.c_str(), nullptr));
  }

  /// Produces inputs [first, first + count) at `rate` per second (0: all at once), then waits
  /// for their acknowledgements (30 s at most).
  PacedRun run(long long first, long long count, int rate) {
    PacedRun result;
    const double cpu_before = thread_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    const long long start_us = wall_us();
    long long sent = 0;
    while (sent < count) {
      const auto now = std::chrono::steady_clock::now();
      const double elapsed = std::chrono::duration<double>(now - start).count();
      const long long due = rate > 0 ? std::min<long long>(count, static_cast<long long>(elapsed * rate) + 1) : count;
      for (; sent < due; ++sent) produce(first + sent, rate > 0 ? start_us + sent * 1'000'000LL / rate : 0);
      rd_kafka_poll(handle_.get(), 0);  // acknowledgements, as they come
      if (sent < count) {
        // The next tick: 1 ms after this one, or when the next input is due if that is later.
        const auto next_due = start + std::chrono::microseconds(sent * 1'000'000LL / rate);
        std::this_thread::sleep_until(std::max(next_due, now + std::chrono::milliseconds(1)));
      }
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rd_kafka_flush(handle_.get(), 30000);
    result.cpu_seconds = thread_cpu_seconds() - cpu_before;
    result.failed = failed_;
    return result;
  }

 private:
  void produce(long long seq, long long scheduled_us) {
    const auto i = static_cast<std::size_t>(seq);
    const auto& key = inputs_.keys[i];
    const auto& value = inputs_.values[i];
    const long long at = wall_us();
    inputs_.created_us[i] = at;
    if (scheduled_us > 0) inputs_.late_us[i] = at - scheduled_us;
    // The sequence number travels as the opaque, so the acknowledgement finds its input.
    while (rd_kafka_producev(handle_.get(), RD_KAFKA_V_RKT(topic_.get()), RD_KAFKA_V_KEY(key.data(), key.size()),
                             RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                             RD_KAFKA_V_TIMESTAMP(at / 1000),
                             RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(seq))),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(handle_.get(), 1);
    }
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto& self = *static_cast<PacedProducer*>(opaque);
    if (message->err) {
      ++self.failed_;
      return;
    }
    const auto seq = static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(message->_private));
    if (seq < self.inputs_.acked_us.size()) self.inputs_.acked_us[seq] = wall_us();
  }

  Inputs& inputs_;
  kernel::detail::HandlePtr handle_;
  kernel::detail::TopicPtr topic_;
  long long failed_ = 0;
};

}  // namespace bench
