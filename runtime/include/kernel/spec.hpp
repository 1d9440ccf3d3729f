#pragma once
/// What a kernel is: its name, default topics, handler and middleware, as main.cpp describes it
/// for kernel::run() (kernel/run.hpp).
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kernel/batch.hpp"
#include "kernel/errors.hpp"
#include "kernel/handler.hpp"
#include "kernel/kernel_settings.hpp"

namespace kernel {

class Metrics;  // kernel/metrics.hpp

/// The retry policy a kernel's code gives; each field set here is the default of its variable,
/// and the environment overrides it (docs/failure-handling.md).
struct RetrySpec {
  std::optional<int> max_retries;                        ///< KAFKA_CONSUMER_MAX_RETRIES
  std::optional<std::chrono::milliseconds> backoff;      ///< KERNEL_RETRY_BACKOFF
  std::optional<std::chrono::milliseconds> backoff_max;  ///< KERNEL_RETRY_BACKOFF_MAX
  std::optional<double> multiplier;                      ///< KERNEL_RETRY_MULTIPLIER
  std::optional<double> jitter;                          ///< KERNEL_RETRY_JITTER
  /// KERNEL_RETRY_TOPICS: one delay per retry topic; empty retries in place.
  std::vector<std::chrono::milliseconds> topics;
};

/// A kernel as main.cpp describes it; kernel::run() and testing::KernelFixture run it.
struct KernelSpec {
  std::string name;  ///< kernel name: group, client id, `source` header
  std::string version = "0.1.0";
  std::string description;
  std::vector<std::string> input_topics;    ///< defaults for KAFKA_TOPIC
  std::optional<std::string> output_topic;  ///< default for KAFKA_OUTPUT_TOPIC
  /// The kernel's own settings, read from <NAME>_<SETTING> (docs/kernel-settings.md) and
  /// through Context::setting<T>(); a name starting kafka- or kernel- is refused with them.
  std::vector<KernelSetting> settings = {};
  /// Named outputs, each overridable by KAFKA_OUTPUT_TOPIC_<NAME>; Context::produce_to() writes
  /// to them. output_topic stays the default output's.
  std::vector<KernelOutput> outputs = {};
  /// One message per call. A kernel sets this or batch_handler, not both.
  Handler handler;
  /// Up to KERNEL_BATCH_SIZE messages of one partition per call (kernel/batch.hpp,
  /// docs/batches.md). Consumer middleware does not wrap batch calls: leave `middleware` empty.
  BatchHandler batch_handler;
  std::vector<ConsumerMiddleware> middleware;  ///< run in this order, outermost first
  /// Wraps each produce, in this order, outermost first (see kernel/middleware.hpp).
  std::vector<ProducerMiddleware> producer_middleware;
  /// Plain exception types the kernel knows to be passing (a driver's "connection lost"):
  /// retried like a TransientError. See docs/failure-handling.md for the built-in rules.
  TransientTypes transient_errors;
  /// Retry policy defaults (the environment overrides each).
  RetrySpec retry;
  /// Declares the kernel's own metrics once, at start, before the first message (docs/interop.md):
  /// keep the references it gets; Context::metrics() returns the same metrics. An invalid
  /// declaration throws std::invalid_argument: kernel::run() logs it and exits 70.
  std::function<void(Metrics&)> metrics;
};

}  // namespace kernel
