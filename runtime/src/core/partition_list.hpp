#pragma once
// The one way the runtime and its tools build a librdkafka partition list: the offsets a
// commit sends (the loop's completed prefixes, kernel-admin's reset), and the partitions a
// pause, resume or query names.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "kernel/detail/rdkafka_handles.hpp"

namespace kernel::detail {

/// RD_KAFKA_OFFSET_INVALID: a row without an offset (pause, resume, committed-offset query).
inline constexpr std::int64_t no_offset = -1001;

struct PartitionOffset {
  std::string_view topic;
  std::int32_t partition = 0;
  std::int64_t offset = no_offset;
};

/// rd_kafka_topic_partition_list_new + _add per row, offsets set.
PartitionListPtr make_partition_list(std::span<const PartitionOffset> rows);
inline PartitionListPtr make_partition_list(std::initializer_list<PartitionOffset> rows) {
  return make_partition_list(std::span<const PartitionOffset>(rows.begin(), rows.size()));
}

}  // namespace kernel::detail
