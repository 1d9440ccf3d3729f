#include "producer/producer_topics.hpp"

#include <librdkafka/rdkafka.h>

#include "core/refusal.hpp"

namespace kernel::detail {

ProducerTopic ProducerTopics::check(const std::string& named, bool exact) const {
  ProducerTopic topic;
  topic.full_name = exact ? named : settings_.topic_prefix + named;
  if (auto problem = topic_name_problem(topic.full_name); !problem.empty()) {
    topic.refusal_code = RD_KAFKA_RESP_ERR__INVALID_ARG;
    topic.refusal = "topic " + topic.full_name + " " + problem;
  } else if (guard_.active()) {
    if (auto refusal = guard_.refusal(topic.full_name); !refusal.empty()) {
      topic.refusal_code = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
      topic.refusal = std::move(refusal);
    }
  }
  return topic;
}

const ProducerTopic& ProducerTopics::resolve(const std::string& named, bool exact, ProducerTopic& overflow) {
  // An exact name is cached under a key no topic name can have ('=' is not allowed in one), so
  // it never meets the same name given with the prefix still to come.
  const std::string exact_key = exact ? "=" + named : std::string{};
  const std::string& key = exact ? exact_key : named;
  if (auto found = cached_.find(key); found != cached_.end()) return found->second;
  auto topic = check(named, exact);
  if (topic.refusal.empty()) {
    // The handle's configuration is the producer's default topic configuration.
    topic.handle.reset(rd_kafka_topic_new(producer_, topic.full_name.c_str(), nullptr));
  }
  if (cached_.size() < max_cached) return cached_.emplace(key, std::move(topic)).first->second;
  overflow = std::move(topic);  // beyond the bound: a handle for this send only
  return overflow;
}

}  // namespace kernel::detail
