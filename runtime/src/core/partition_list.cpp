#include "core/partition_list.hpp"

#include <string>

#include <librdkafka/rdkafka.h>

namespace kernel::detail {

static_assert(no_offset == RD_KAFKA_OFFSET_INVALID);

PartitionListPtr make_partition_list(std::span<const PartitionOffset> rows) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(rows.size())));
  std::string topic;  // librdkafka wants a terminated name; the row's view need not be
  for (const auto& row : rows) {
    topic.assign(row.topic);
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), row.partition)->offset = row.offset;
  }
  return list;
}

}  // namespace kernel::detail
