#pragma once
/// One deleter and one unique_ptr alias per librdkafka C type. Ownership moves with
/// .release() at the call that takes it, with a comment saying so.
///
/// The C types are only declared here, as librdkafka's own C++ binding does: including this
/// header (through kernel/message.hpp or kernel/testing.hpp) pulls in nothing of the C API.
/// The deleters are defined in the runtime (src/core/rdkafka_handles.cpp).
#include <memory>

struct rd_kafka_s;                       // rd_kafka_t
struct rd_kafka_conf_s;                  // rd_kafka_conf_t
struct rd_kafka_message_s;               // rd_kafka_message_t
struct rd_kafka_topic_partition_list_s;  // rd_kafka_topic_partition_list_t
struct rd_kafka_headers_s;               // rd_kafka_headers_t
struct rd_kafka_error_s;                 // rd_kafka_error_t
struct rd_kafka_queue_s;                 // rd_kafka_queue_t
struct rd_kafka_topic_s;                 // rd_kafka_topic_t
struct rd_kafka_metadata;                // rd_kafka_metadata_t
struct rd_kafka_group_list;              // rd_kafka_list_groups()' answer
struct rd_kafka_mock_cluster_s;          // rd_kafka_mock_cluster_t (owned by its handle)
struct rd_kafka_op_s;                    // rd_kafka_event_t
struct rd_kafka_AdminOptions_s;          // rd_kafka_AdminOptions_t
struct rd_kafka_NewTopic_s;              // rd_kafka_NewTopic_t

namespace kernel::detail {

struct HandleDeleter {
  void operator()(rd_kafka_s* handle) const noexcept;  // rd_kafka_destroy
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_s* conf) const noexcept;  // rd_kafka_conf_destroy
};
struct MessageDeleter {
  void operator()(rd_kafka_message_s* message) const noexcept;  // rd_kafka_message_destroy
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_s* list) const noexcept;  // rd_kafka_topic_partition_list_destroy
};
struct HeadersDeleter {
  void operator()(rd_kafka_headers_s* headers) const noexcept;  // rd_kafka_headers_destroy
};
struct ErrorDeleter {
  void operator()(rd_kafka_error_s* error) const noexcept;  // rd_kafka_error_destroy
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_s* queue) const noexcept;  // rd_kafka_queue_destroy
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_s* topic) const noexcept;  // rd_kafka_topic_destroy
};
struct MetadataDeleter {
  // `struct`: the function rd_kafka_metadata() hides the type's plain name where rdkafka.h is included.
  void operator()(const struct rd_kafka_metadata* metadata) const noexcept;  // rd_kafka_metadata_destroy
};
struct GroupListDeleter {
  void operator()(const rd_kafka_group_list* list) const noexcept;  // rd_kafka_group_list_destroy
};

struct EventDeleter {
  void operator()(rd_kafka_op_s* event) const noexcept;  // rd_kafka_event_destroy
};
struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_s* options) const noexcept;  // rd_kafka_AdminOptions_destroy
};
struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_s* topic) const noexcept;  // rd_kafka_NewTopic_destroy
};

using HandlePtr = std::unique_ptr<rd_kafka_s, HandleDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_s, ConfDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_s, MessageDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_s, PartitionListDeleter>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_s, HeadersDeleter>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_s, ErrorDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_s, QueueDeleter>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_s, TopicDeleter>;
using MetadataPtr = std::unique_ptr<const struct rd_kafka_metadata, MetadataDeleter>;
using GroupListPtr = std::unique_ptr<const rd_kafka_group_list, GroupListDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_op_s, EventDeleter>;
using AdminOptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_s, AdminOptionsDeleter>;
using NewTopicPtr = std::unique_ptr<rd_kafka_NewTopic_s, NewTopicDeleter>;

}  // namespace kernel::detail
