#pragma once
// The topics a kernel::Producer writes: each one's prefix, name check and produce guard done
// once, on the first send to it, and its librdkafka topic handle kept, so a send is one lookup.
#include <cstddef>
#include <string>
#include <unordered_map>

#include "config/pipeline_naming.hpp"
#include "config/settings.hpp"
#include "kernel/detail/rdkafka_handles.hpp"

namespace kernel::detail {

/// Where a send goes, or why it may not.
struct ProducerTopic {
  std::string full_name;  // the prefix included, as the broker knows it
  TopicPtr handle;        // null when refused
  int refusal_code = 0;   // an rd_kafka_resp_err_t, when refused
  std::string refusal;    // why, in words (empty when it may be written)
};

/// Not thread-safe: the producer calls it under its send lock.
class ProducerTopics {
 public:
  /// Topics beyond this are checked on every send and never get a handle of their own (a
  /// producer writing to ever-new topic names must not grow without bound).
  static constexpr std::size_t max_cached = 1024;

  ProducerTopics(const Settings& settings, rd_kafka_s* producer)
      : settings_(settings), guard_(settings), producer_(producer) {}

  /// The topic `named` (before the prefix, or as it is when `exact`: a reply's reply-to): a
  /// cached entry, valid for the producer's lifetime, or, once the cache is full, `overflow`
  /// (the caller's) filled for this send only.
  const ProducerTopic& resolve(const std::string& named, bool exact, ProducerTopic& overflow);

 private:
  ProducerTopic check(const std::string& named, bool exact) const;

  const Settings& settings_;
  ProduceGuard guard_;
  rd_kafka_s* producer_;
  std::unordered_map<std::string, ProducerTopic> cached_;
};

}  // namespace kernel::detail
