// The deleters of kernel/detail/rdkafka_handles.hpp: the only place a librdkafka object is destroyed.
#include "kernel/detail/rdkafka_handles.hpp"

#include <librdkafka/rdkafka.h>

namespace kernel::detail {

void HandleDeleter::operator()(rd_kafka_t* handle) const noexcept { rd_kafka_destroy(handle); }
void ConfDeleter::operator()(rd_kafka_conf_t* conf) const noexcept { rd_kafka_conf_destroy(conf); }
void MessageDeleter::operator()(rd_kafka_message_t* message) const noexcept { rd_kafka_message_destroy(message); }
void PartitionListDeleter::operator()(rd_kafka_topic_partition_list_t* list) const noexcept {
  rd_kafka_topic_partition_list_destroy(list);
}
void HeadersDeleter::operator()(rd_kafka_headers_t* headers) const noexcept { rd_kafka_headers_destroy(headers); }
void ErrorDeleter::operator()(rd_kafka_error_t* error) const noexcept { rd_kafka_error_destroy(error); }
void QueueDeleter::operator()(rd_kafka_queue_t* queue) const noexcept { rd_kafka_queue_destroy(queue); }
void TopicDeleter::operator()(rd_kafka_topic_t* topic) const noexcept { rd_kafka_topic_destroy(topic); }
void MetadataDeleter::operator()(const rd_kafka_metadata_t* metadata) const noexcept {
  rd_kafka_metadata_destroy(metadata);
}
void GroupListDeleter::operator()(const rd_kafka_group_list* list) const noexcept { rd_kafka_group_list_destroy(list); }
void EventDeleter::operator()(rd_kafka_event_t* event) const noexcept { rd_kafka_event_destroy(event); }
void AdminOptionsDeleter::operator()(rd_kafka_AdminOptions_t* options) const noexcept {
  rd_kafka_AdminOptions_destroy(options);
}
void NewTopicDeleter::operator()(rd_kafka_NewTopic_t* topic) const noexcept { rd_kafka_NewTopic_destroy(topic); }

}  // namespace kernel::detail
