// kernel-dev-broker: a development Kafka broker (librdkafka's mock cluster) on loopback that
// several processes can share. Prints `KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:PORT` first, then
// runs until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "command_line.hpp"
#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/embedded_broker.hpp"
#include "kernel/jsonl.hpp"
#include "kernel/run.hpp"
#include "broker/record_io.hpp"

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kernel-dev-broker: a development Kafka broker on 127.0.0.1 (librdkafka's mock "
               "cluster), shared by several processes, on a free port it prints first. Not for production."};
  int partitions = 4;
  std::vector<std::string> topics, seeds, tails;
  app.add_option("--partitions", partitions, "Partitions of each topic it creates (topics it auto-creates get 4)")
      ->transform(kernel::tools::whole_number(1, 1000, "partitions"))
      ->capture_default_str();
  app.add_option("--topic", topics, "Create this topic (repeatable)");
  app.add_option("--seed", seeds, "Produce a JSON Lines file to a topic: TOPIC=FILE (repeatable)");
  app.add_option("--tail", tails, "Print each message of TOPIC as a JSON line (repeatable)");
  app.footer("Example:\n  kernel-dev-broker --partitions 8 --topic orders --seed orders=samples/input.jsonl --tail orders.out");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return kernel::tools::report_parse_error(app, error, "kernel-dev-broker");
  }

  std::map<std::string, std::string> seed_files;
  for (const auto& entry : seeds) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
      std::cerr << "kernel-dev-broker: --seed " << entry << ": expected TOPIC=FILE\n";
      return kernel::exit_code::usage;
    }
    seed_files[entry.substr(0, eq)] = entry.substr(eq + 1);
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  try {
    kernel::EmbeddedBroker broker;
    for (const auto& topic : topics) broker.create_topic(topic, partitions);
    for (const auto& topic : tails) broker.create_topic(topic, partitions);
    for (const auto& [topic, file] : seed_files) {
      broker.create_topic(topic, partitions);
      const auto records = kernel::jsonl::read_file(file);
      kernel::detail::produce_records(broker.bootstrap_servers(), topic, records);
      std::cerr << "kernel-dev-broker: seeded " << records.size() << " messages into " << topic << "\n";
    }
    std::cout << "KAFKA_BOOTSTRAP_SERVERS=" << broker.bootstrap_servers() << std::endl;
    std::cerr << "kernel-dev-broker: development broker on " << broker.bootstrap_servers()
              << " (in memory, no TLS or SASL; not for production). Stop with Ctrl-C.\n";

    kernel::detail::HandlePtr tailer;
    if (!tails.empty()) {
      tailer = kernel::detail::make_plain_client(RD_KAFKA_CONSUMER, broker.bootstrap_servers(),
                           {{"group.id", "kernel-dev-broker-tail"}, {"enable.auto.commit", "false"},
                            {"allow.auto.create.topics", "false"}});
      kernel::detail::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(0));
      for (const auto& topic : tails) {
        for (int p = 0; p < partitions; ++p) {
          rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset =
              RD_KAFKA_OFFSET_BEGINNING;
        }
      }
      rd_kafka_assign(tailer.get(), assignment.get());
    }
    while (!stop_requested) {
      if (!tailer) {
        // Nothing to do but stay up; the cluster runs on its own thread.
        struct timespec pause{0, 100'000'000};
        nanosleep(&pause, nullptr);
        continue;
      }
      kernel::detail::MessagePtr message(rd_kafka_consumer_poll(tailer.get(), 100));
      if (!message) continue;
      if (message->err) {
        if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          std::cerr << "kernel-dev-broker: tail: " << rd_kafka_message_errstr(message.get()) << "\n";
        }
        continue;
      }
      std::cout << kernel::jsonl::format(kernel::jsonl::from_rdkafka(message.get())) << std::endl;
    }
    if (tailer) rd_kafka_consumer_close(tailer.get());
  } catch (const kernel::jsonl::ParseError& error) {
    std::cerr << "kernel-dev-broker: " << error.what() << "\n";
    return kernel::exit_code::usage;
  } catch (const std::exception& error) {
    std::cerr << "kernel-dev-broker: " << error.what() << "\n";
    return kernel::exit_code::software;
  }
  return 0;
}
