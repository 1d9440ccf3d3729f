// The baseline: a hand-written librdkafka loop doing the same work as example-enricher
// (consume -> parse JSON -> add two fields -> produce with the standard headers stamped by
// hand), at-least-once (an input's offset is committed after its output is acknowledged).
// Client settings come from the same configuration code as the kernel's, so both run with the
// same acks, idempotence, compression, linger and fetch settings (not the kernel's batch size,
// which follows its in-flight bound: see main).
//
// With KERNEL_DELIVERY=exactly_once it is the hand-written transactional loop instead: the
// kernel's transactional.id and read_committed consumer, one transaction per
// KAFKA_CONSUMER_COMMIT_INTERVAL (the kernel's default, 1 s) committed in the loop itself:
// send_offsets_to_transaction() with the consumed positions, commit_transaction() (which flushes
// what is queued), begin_transaction(). A failed transaction ends the loop (exit 70): a benchmark
// baseline, not a kernel.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include <kernel/detail/rdkafka_handles.hpp>
#include <nlohmann/json.hpp>

#include "config/settings.hpp"  // the runtime's private include directory: Settings' fields

namespace {

volatile std::sig_atomic_t running = 1;
void on_signal(int) { running = 0; }

std::map<int, long long> delivered;  // input partition -> next offset to commit

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  if (message->err) {
    std::fprintf(stderr, "raw-loop: delivery failed: %s\n", rd_kafka_err2str(message->err));
    return;
  }
  const auto tag = reinterpret_cast<std::uintptr_t>(message->_private);
  const int partition = static_cast<int>(tag >> 48);
  const long long offset = static_cast<long long>(tag & ((1ULL << 48) - 1));
  auto& next = delivered[partition];
  if (offset + 1 > next) next = offset + 1;
}

kernel::detail::HandlePtr client(rd_kafka_type_t type, const std::vector<kernel::Property>& properties) {
  kernel::detail::ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& p : properties) {
    if (rd_kafka_conf_set(conf.get(), p.name.c_str(), p.value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "raw-loop: %s\n", error);
      std::exit(78);
    }
  }
  if (type == RD_KAFKA_PRODUCER) rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  kernel::detail::HandlePtr handle(rd_kafka_new(type, conf.get(), error, sizeof error));
  if (!handle) {
    std::fprintf(stderr, "raw-loop: %s\n", error);
    std::exit(70);
  }
  conf.release();  // owned by the handle
  return handle;
}

void add_header(rd_kafka_headers_t* headers, const char* name, const char* value, std::size_t size) {
  rd_kafka_header_add(headers, name, -1, value, static_cast<ssize_t>(size));
}

/// Ends the loop on a failed transaction call (a baseline does not redo work).
void check(rd_kafka_error_t* error, const char* what) {
  if (!error) return;
  std::fprintf(stderr, "raw-loop: %s: %s\n", what, rd_kafka_error_string(error));
  rd_kafka_error_destroy(error);
  std::exit(70);
}

/// Exactly-once: the consumed positions go into the transaction, which commits; the next begins.
void commit_transaction(rd_kafka_t* producer, rd_kafka_t* consumer, const std::string& topic,
                        std::map<int, long long>& consumed) {
  kernel::detail::PartitionListPtr offsets(rd_kafka_topic_partition_list_new(static_cast<int>(consumed.size())));
  for (const auto& [partition, next] : consumed) {
    rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), partition)->offset = next;
  }
  rd_kafka_consumer_group_metadata_t* group = rd_kafka_consumer_group_metadata(consumer);
  rd_kafka_error_t* error = rd_kafka_send_offsets_to_transaction(producer, offsets.get(), group, -1);
  rd_kafka_consumer_group_metadata_destroy(group);
  check(error, "send_offsets_to_transaction");
  check(rd_kafka_commit_transaction(producer, -1), "commit_transaction");
  check(rd_kafka_begin_transaction(producer), "begin_transaction");
  consumed.clear();
}

}  // namespace

int main() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const auto config = kernel::Config::load(
      kernel::KernelDefaults{"raw-loop", {"orders"}, std::string("orders.enriched")}, kernel::process_environment());
  const auto& settings = config.settings();
  // The kernel sends a batch once it holds half its in-flight bound (batch.num.messages from
  // KAFKA_MAX_POLL_RECORDS). This loop has no bound and keeps librdkafka's default, as a
  // hand-written loop would; a KAFKA_PROPERTY_BATCH_NUM_MESSAGES still applies to both.
  const bool transactional = settings.delivery == kernel::DeliveryGuarantee::exactly_once;
  auto producer_properties = transactional ? config.loop_producer_properties() : config.producer_properties();
  std::erase_if(producer_properties,
                [](const kernel::Property& p) { return p.name == "batch.num.messages" && p.derived; });
  auto producer = client(RD_KAFKA_PRODUCER, producer_properties);
  auto consumer = client(RD_KAFKA_CONSUMER, config.consumer_properties());
  rd_kafka_poll_set_consumer(consumer.get());
  kernel::detail::PartitionListPtr topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), settings.input_topics.front().c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(consumer.get(), topics.get());
  kernel::detail::TopicPtr output(rd_kafka_topic_new(producer.get(), settings.output_topic->c_str(), nullptr));
  std::map<int, long long> consumed;  // exactly-once: input partition -> next offset, this transaction
  if (transactional) {
    check(rd_kafka_init_transactions(producer.get(), 30000), "init_transactions");
    check(rd_kafka_begin_transaction(producer.get()), "begin_transaction");
  }
  auto next_transaction = std::chrono::steady_clock::now() + settings.commit_interval;

  std::mt19937_64 random{std::random_device{}()};
  // The kernel's name: enriched_by and the source header carry the same bytes as its outputs.
  const std::string source = "example-enricher";
  auto next_commit = std::time(nullptr) + 1;
  while (running) {
    kernel::detail::MessagePtr message(rd_kafka_consumer_poll(consumer.get(), 100));
    rd_kafka_poll(producer.get(), 0);
    if (transactional) {
      if (std::chrono::steady_clock::now() >= next_transaction) {
        if (!consumed.empty()) {
          commit_transaction(producer.get(), consumer.get(), settings.input_topics.front(), consumed);
        }
        next_transaction = std::chrono::steady_clock::now() + settings.commit_interval;
      }
    } else if (std::time(nullptr) >= next_commit && !delivered.empty()) {
      kernel::detail::PartitionListPtr offsets(rd_kafka_topic_partition_list_new(static_cast<int>(delivered.size())));
      for (const auto& [partition, offset] : delivered) {
        rd_kafka_topic_partition_list_add(offsets.get(), settings.input_topics.front().c_str(), partition)->offset =
            offset;
      }
      rd_kafka_commit(consumer.get(), offsets.get(), 1);
      next_commit = std::time(nullptr) + 1;
    }
    if (!message || message->err) continue;

    auto order = nlohmann::json::parse(static_cast<const char*>(message->payload),
                                       static_cast<const char*>(message->payload) + message->len, nullptr, false);
    if (order.is_discarded() || !order.is_object()) continue;
    const auto amount = order.value("amount", 0.0);
    order["enriched_by"] = source;
    order["priority"] = amount >= 100.0 ? "high" : "normal";
    const auto value = order.dump();

    // The standard headers, by hand.
    auto* headers = rd_kafka_headers_new(8);
    char event_id[37];
    const auto hi = random(), lo = random();
    std::snprintf(event_id, sizeof event_id, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xfff),
                  static_cast<unsigned>(0x8000 | ((lo >> 48) & 0x3fff)),
                  static_cast<unsigned long long>(lo & 0xffffffffffffULL));
    add_header(headers, "event-id", event_id, 36);
    add_header(headers, "correlation-id", event_id, 36);
    add_header(headers, "source", source.data(), source.size());
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    std::tm tm{};
    gmtime_r(&now.tv_sec, &tm);
    char stamp[32];
    const int n = std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
    add_header(headers, "timestamp", stamp, static_cast<std::size_t>(n));
    add_header(headers, "content-type", "application/json", 16);
    add_header(headers, "event-type", "order.enriched", 14);

    const auto tag =
        (static_cast<std::uintptr_t>(message->partition) << 48) | static_cast<std::uintptr_t>(message->offset);
    while (rd_kafka_producev(
               producer.get(), RD_KAFKA_V_RKT(output.get()), RD_KAFKA_V_KEY(message->key, message->key_len),
               RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
               RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(tag)), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer.get(), 10);
    }
    if (transactional) consumed[message->partition] = message->offset + 1;
  }
  if (transactional && !consumed.empty()) {
    commit_transaction(producer.get(), consumer.get(), settings.input_topics.front(), consumed);
  }
  rd_kafka_flush(producer.get(), 10000);
  rd_kafka_consumer_close(consumer.get());
  return 0;
}
