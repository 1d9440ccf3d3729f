#pragma once
// Reads the kernel's control topic (docs/operations.md#fleet-wide-pause) on a thread of its
// own and keeps the fleet-wide pauses in force for the loop to apply.
//
// Every instance must see every command, so this is not a member of the kernel's group: a
// second consumer handle with no group.id at all reads every partition of the control topic
// from its beginning with the simple consumer API (rd_kafka_consume_start_queue). One handle
// cannot both subscribe and assign, and a group would need group ACLs and show in the group's
// tools. The loop reads one atomic per iteration (generation()) and copies the pauses only
// when it changed: no work per message.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "kernel/config.hpp"
#include "kernel/detail/rdkafka_handles.hpp"
#include "loop/fleet_pauses.hpp"

namespace kernel::detail {

class KernelMetrics;

class FleetCommands {
 public:
  /// `properties`: the kernel consumer's (brokers, TLS, SASL); its group settings are left out.
  /// `metrics` may be null (KERNEL_HTTP_PORT off).
  FleetCommands(std::string topic, const std::vector<Property>& properties, std::shared_ptr<spdlog::logger> log,
                KernelMetrics* metrics);
  ~FleetCommands();
  FleetCommands(const FleetCommands&) = delete;
  FleetCommands& operator=(const FleetCommands&) = delete;

  /// Starts reading and returns once every partition was read to its end (so an instance
  /// started while a pause holds starts paused), the topic was found missing, or `within`
  /// passed (a warning then; the pauses come when they are read).
  void start(std::chrono::milliseconds within);
  /// Changes each time the pauses in force change (one acquire load).
  std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
  /// The pauses in force, and the generation they belong to.
  FleetPauses pauses(std::uint64_t& generation) const;
  const std::string& topic() const noexcept { return topic_; }

  /// At most this many pauses in force; a command that would leave more in force is ignored
  /// (a wider one, which replaces narrower ones, is always taken).
  static constexpr std::size_t max_pauses = 10000;

 private:
  void run();
  void read_until_stopped();
  /// What looking the topic up found.
  enum class Lookup { reading, missing, unknown };
  /// Looks the topic up (the brokers' full topic list: naming it could create it) and starts
  /// reading its partitions: reading, missing (the brokers answered without it), or unknown
  /// (they did not answer, or not for it: asked again soon, since a pause may be in force).
  Lookup open();
  void read(const rd_kafka_message_t& record);
  void caught_up();

  std::string topic_;
  std::shared_ptr<spdlog::logger> log_;
  KernelMetrics* metrics_;
  HandlePtr consumer_;
  QueuePtr queue_;
  TopicPtr topic_handle_;
  int partitions_ = 0;
  std::vector<bool> at_end_;  // per partition: read to its end once
  int at_end_count_ = 0;
  bool missing_reported_ = false;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  FleetPauses pauses_;      // under mutex_
  bool caught_up_ = false;  // under mutex_
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace kernel::detail
