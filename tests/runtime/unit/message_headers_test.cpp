// Message::header() on messages consumed from a broker (adopt_message()): the path the loop's
// header stamping takes for every output.
#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "broker/record_io.hpp"
#include "core/adopt_message.hpp"
#include "kernel/embedded_broker.hpp"
#include "kernel/message.hpp"

namespace message_headers_test {

namespace {

/// Consumes `count` messages of partition 0 of `topic` from the beginning, adopted. They hold
/// references into `consumer`: release them before it.
std::vector<kernel::Message> consume(rd_kafka_t* consumer, const std::string& topic, std::size_t count) {
  kernel::detail::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer, assignment.get());
  std::vector<kernel::Message> messages;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (messages.size() < count && std::chrono::steady_clock::now() < deadline) {
    kernel::detail::MessagePtr raw(rd_kafka_consumer_poll(consumer, 100));
    if (raw && !raw->err) messages.push_back(kernel::detail::adopt_message(std::move(raw)));
  }
  return messages;
}

}  // namespace

TEST_CASE("header() of a consumed message: absent every time when it has none, found when it has them") {
  kernel::EmbeddedBroker broker;
  broker.create_topic("headers-in", 1);
  std::vector<kernel::jsonl::Record> records(2);
  records[0].value = "no headers (an empty header list)";
  records[1].value = "with headers";
  records[1].headers = kernel::Headers{{"event-id", "e-1"}, {"correlation-id", "c-1"}, {"empty", ""}};
  kernel::detail::produce_records(broker.bootstrap_servers(), "headers-in", records, std::chrono::seconds(20));
  auto consumer =
      kernel::detail::make_plain_client(RD_KAFKA_CONSUMER, broker.bootstrap_servers(), {{"group.id", "headers"}});
  {
    auto messages = consume(consumer.get(), "headers-in", 2);
    REQUIRE(messages.size() == 2);
    const auto& plain = messages[0];
    for (int lookup = 0; lookup < 3; ++lookup) {  // asked again: still absent
      CAPTURE(lookup);
      CHECK_FALSE(plain.header("event-id"));
      CHECK_FALSE(plain.header("correlation-id"));
    }
    CHECK(plain.headers().size() == 0);
    const auto& stamped = messages[1];
    for (int lookup = 0; lookup < 2; ++lookup) {
      CHECK(stamped.header("event-id") == "e-1");
      CHECK(stamped.header("correlation-id") == "c-1");
      CHECK(stamped.header("empty") == "");
      CHECK_FALSE(stamped.header("conversation-id"));
    }
    CHECK(stamped.headers().size() == 3);
  }
  rd_kafka_consumer_close(consumer.get());
}

}  // namespace message_headers_test
