// The registry's row for request/reply: where context.reply() may send (registry_rows.hpp).
// Part of kernel_config.
#include "config/registry_rows.hpp"

namespace kernel::config_detail::registry_rows {

std::vector<VariableSpec> reply_rows() {
  using S = Settings;
  return {
      stored_in(&S::reply_topics, topic_list(),
                {.name = env_var::KERNEL_REPLY_TOPICS,
                 .default_value = "*.replies.*",
                 .description = "Topics context.reply() may answer to: glob patterns (* is any text) the reply-to "
                                "header must match after KAFKA_TOPIC_PREFIX, which it must start with. The default "
                                "takes kernel::Requester's reply topics; the kernel's own topics and internal ones "
                                "(_name) are refused whatever this says (docs/producer.md)"}),
  };
}

}  // namespace kernel::config_detail::registry_rows
