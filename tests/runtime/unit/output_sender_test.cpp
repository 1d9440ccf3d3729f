// OutputSender's answers to the loop: an acknowledged record comes back as a value (its
// Delivery: the loop settles the partition), an output refused for good through OutputEvents.
// No broker: the producer has none, an acknowledgement is a report made by hand, and a refusal
// is librdkafka's own size check.
#include <doctest/doctest.h>

#include <array>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "kernel/config.hpp"
#include "kernel/testing.hpp"
#include "loop/output_sender.hpp"
#include "loop/partition_state.hpp"

namespace output_sender_test {

using namespace kernel::detail;

namespace {

/// The loop's side, recorded.
struct RecordedEvents final : OutputEvents {
  int settled = 0;
  int fatal_errors = 0;

  void settle(PartitionState&) override { ++settled; }
  void stop_on_fatal_error(rd_kafka_t*) override { ++fatal_errors; }
};

kernel::Config config() {
  return kernel::Config::load(kernel::KernelDefaults{"sender", {"in"}, "out"},
                              {{kernel::env_var::KAFKA_BOOTSTRAP_SERVERS, "b:9092"}}, kernel::RunMode::production,
                              "/nonexistent-dir/.env");
}

/// A producer with no broker (nothing is sent) that refuses records over 2000 bytes itself.
HandlePtr producer() {
  ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 256> error{};
  for (const auto& [name, value] : {std::pair{"message.max.bytes", "2000"}, std::pair{"log_level", "0"}}) {
    REQUIRE(rd_kafka_conf_set(conf.get(), name, value, error.data(), error.size()) == RD_KAFKA_CONF_OK);
  }
  HandlePtr handle(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error.data(), error.size()));
  REQUIRE(handle);
  (void)conf.release();  // rd_kafka_new() took it
  return handle;
}

struct Sender {
  kernel::Config config = output_sender_test::config();
  std::string name = "sender";
  RetryPolicy retry_policy{std::chrono::milliseconds(100), std::chrono::milliseconds(1000), 2.0, 0.0};
  RecordedEvents events;
  std::shared_ptr<spdlog::logger> log =
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  OutputSender sender{events, config, name, log, retry_policy, nullptr};
  PartitionState partition;
  InFlight& entry = partition.tracker.begin(7);
  kernel::Message input = kernel::testing::make_message({{"id", 1}});

  Sender() {
    sender.set_producer(producer());
    sender.start(nullptr, false);
    partition.topic = "in";
    entry.owner = &partition;
  }
  ~Sender() {
    sender.release_topics();
    sender.release_producer();
  }
};

}  // namespace

TEST_CASE("output sender: an acknowledged output answers with its Delivery; the loop, not the sender, settles") {
  Sender s;
  s.sender.send_output(kernel::Outgoing{}.text("hello"), s.input, s.entry, 1);
  CHECK(s.sender.pending() == 1);
  CHECK(s.entry.pending_acks == 1);

  rd_kafka_message_t report{};  // what librdkafka hands the delivery report callback
  report.err = RD_KAFKA_RESP_ERR_NO_ERROR;
  report._private = const_cast<Delivery*>(&s.entry.output_delivery);
  CHECK(s.sender.delivered(&report) == &s.entry.output_delivery);
  CHECK(s.sender.pending() == 0);
  CHECK(s.entry.pending_acks == 0);
  CHECK(s.events.settled == 0);
}

TEST_CASE("output sender: an output refused for good is given up, its input marked failed, and the loop settles") {
  Sender s;
  s.sender.send_output(kernel::Outgoing{}.text(std::string(5000, 'x')), s.input, s.entry, 1);
  CHECK(s.sender.pending() == 0);
  CHECK(s.entry.pending_acks == 0);
  CHECK_FALSE(s.sender.busy());  // not sent again
  CHECK(s.entry.output_failed);  // dead-lettered (output_failed) once nothing else of it is pending
  CHECK(s.entry.output_error.starts_with("out: "));
  CHECK(s.partition.failed_outputs == 1);
  CHECK(s.events.settled == 1);
  CHECK(s.events.fatal_errors == 0);
}

}  // namespace output_sender_test
