// kernel-dev-broker: a development Kafka broker (librdkafka's mock cluster) on loopback that
// several processes can share. Prints `KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:PORT` first, then
// runs until SIGINT or SIGTERM, then says in a last line what it held. Exit codes: 0 stopped,
// 64 bad command line, 69 port in use, 70 the broker failed.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <CLI/CLI.hpp>

#include <librdkafka/rdkafka.h>

#include "broker/record_io.hpp"
#include "command_line.hpp"
#include "kernel/config.hpp"
#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/embedded_broker.hpp"
#include "kernel/exit_codes.hpp"
#include "kernel/jsonl.hpp"
#include "log/logging.hpp"

// ---- A fixed port for the mock cluster ------------------------------------------------------
// librdkafka 2.0.2's mock cluster binds each broker to 127.0.0.1 port 0 and advertises the
// address it got; nothing configures the port. A forwarder from a fixed port would not do:
// the metadata would still name the random port, clients would connect there after
// bootstrapping, and after a restart they would hold a stale address. Instead, while this
// thread creates the cluster, the bind() below (librdkafka calls bind through the dynamic
// linker, so the executable's definition wins) turns port 0 into the requested port: the
// mock then listens on it, advertises it, and keeps it when a broker is set down and up.
namespace {
thread_local int requested_port = 0;  // 0: bind() as usual

/// One line for a port that cannot be bound.
std::string port_in_use_message(int port, int error) {
  const auto address = "127.0.0.1:" + std::to_string(port);
  if (error == EADDRINUSE) {
    return "kernel-dev-broker: " + address + " is in use; stop what listens there or choose another --port";
  }
  return "kernel-dev-broker: cannot listen on " + address + " (" + std::generic_category().message(error) +
         "); choose another --port";
}
}  // namespace

extern "C" int bind(int fd, const struct sockaddr* address, socklen_t length) {
  using Bind = int (*)(int, const struct sockaddr*, socklen_t);
  static const auto real_bind = reinterpret_cast<Bind>(dlsym(RTLD_NEXT, "bind"));
  sockaddr_in wanted{};
  if (requested_port == 0 || address == nullptr || address->sa_family != AF_INET || length < sizeof wanted) {
    return real_bind(fd, address, length);
  }
  std::memcpy(&wanted, address, sizeof wanted);
  if (wanted.sin_port != 0) return real_bind(fd, address, length);
  wanted.sin_port = htons(static_cast<std::uint16_t>(requested_port));
  const int result = real_bind(fd, reinterpret_cast<const sockaddr*>(&wanted), sizeof wanted);
  if (result != 0) {
    // Taken since the check in main(): librdkafka 2.0.2 aborts (an assertion while it tears
    // the half-made cluster down) when a mock broker cannot bind, so leave before it does.
    const auto message = port_in_use_message(requested_port, errno) + "\n";
    [[maybe_unused]] auto written = ::write(STDERR_FILENO, message.data(), message.size());
    _exit(kernel::exit_code::unavailable);
  }
  return result;
}

namespace {

volatile std::sig_atomic_t stop_requested = 0;  // the signal that asked, 0 until one did
void on_signal(int signal) { stop_requested = signal; }

/// "2 topics and 3 messages": what the broker holds now (topics from the metadata, messages
/// between the watermarks), asked within `budget`; empty when it cannot tell in time, since
/// this only decorates the line that says it stopped.
std::string contents_of(const std::string& servers, std::chrono::milliseconds budget) {
  using namespace kernel::detail;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  auto left = [&] {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<long long>(ms.count(), 0));
  };
  try {
    const auto client = make_plain_client(RD_KAFKA_PRODUCER, servers);
    const rd_kafka_metadata_t* raw = nullptr;
    if (rd_kafka_metadata(client.get(), 1, nullptr, &raw, left()) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
    const MetadataPtr metadata(raw);
    std::size_t topics = 0;
    std::int64_t messages = 0;
    for (int t = 0; t < metadata->topic_cnt; ++t) {
      const auto& topic = metadata->topics[t];
      if (topic.err || std::string_view(topic.topic).starts_with("__")) continue;  // internal topics
      ++topics;
      for (int p = 0; p < topic.partition_cnt; ++p) {
        std::int64_t low = 0, high = 0;
        if (rd_kafka_query_watermark_offsets(client.get(), topic.topic, topic.partitions[p].id, &low, &high, left()) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
          return {};
        }
        messages += high - low;
      }
    }
    return count_of(topics, "topic") + " and " + count_of(static_cast<std::size_t>(messages), "message");
  } catch (const std::exception&) {
    return {};
  }
}

/// One line for the end of a run: which signal stopped it and what went with it.
std::string stopped_line(int signal, const std::string& contents) {
  const std::string name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : std::to_string(signal);
  return "kernel-dev-broker: stopped (" + name + ")" +
         (contents.empty() ? "" : "; " + contents + " held in memory are gone");
}

/// A bad argument: one line, exit 64.
struct UsageError {
  std::string message;
};

/// Whether 127.0.0.1:port can be bound now, the way the mock binds it (SO_REUSEADDR).
int bind_error(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return errno;
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const int result = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  const int error = result == 0 ? 0 : errno;
  ::close(fd);
  return error;
}

void check_topic_name(const std::string& option, const std::string& topic) {
  if (const auto why = kernel::topic_name_problem(topic); !why.empty()) {
    throw UsageError{option + " " + topic + ": the topic name " + why};
  }
}

/// --seed TOPIC=FILE entries, checked: valid topic names, readable regular files, one file
/// per topic.
std::map<std::string, std::string> seed_files_of(const std::vector<std::string>& seeds) {
  std::map<std::string, std::string> files;
  for (const auto& entry : seeds) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
      throw UsageError{"--seed " + entry + ": expected TOPIC=FILE"};
    }
    const auto topic = entry.substr(0, eq);
    const auto file = entry.substr(eq + 1);
    check_topic_name("--seed", topic);
    std::error_code error;
    const auto status = std::filesystem::status(file, error);
    if (!std::filesystem::exists(status)) throw UsageError{"--seed " + entry + ": " + file + " does not exist"};
    if (std::filesystem::is_directory(status)) {
      throw UsageError{"--seed " + entry + ": " + file + " is a directory; expected a JSON Lines file"};
    }
    if (!std::filesystem::is_regular_file(status)) {
      throw UsageError{"--seed " + entry + ": " + file + " is not a regular file; expected a JSON Lines file"};
    }
    if (const auto [it, added] = files.try_emplace(topic, file); !added) {
      throw UsageError{"--seed: " + topic + " is seeded twice (" + it->second + " and " + file +
                       "); give one file per topic"};
    }
  }
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  // Named here: CLI11 would otherwise take argv[0], the path it was run by, for its usage line.
  CLI::App app{
      "kernel-dev-broker: a development Kafka broker on 127.0.0.1 (librdkafka's mock "
      "cluster), shared by several processes, on the port it prints first. Not for production: it takes "
      "transactions without isolating them (read_committed readers see aborted records; offsets committed in a "
      "transaction are not kept).",
      "kernel-dev-broker"};
  int partitions = 4;
  int port = 0;
  std::vector<std::string> topics, seeds, tails;
  app.add_option("--partitions", partitions, "Partitions of each topic it creates (topics it auto-creates get 4)")
      ->transform(kernel::tools::whole_number(1, 1000, "partitions"))
      ->capture_default_str();
  app.add_option("--port", port, "Port on 127.0.0.1 to listen on; 0 picks a free one")
      ->transform(kernel::tools::whole_number(0, 65535, "port"))
      ->capture_default_str();
  app.add_option("--topic", topics, "Create this topic (repeatable)");
  app.add_option("--seed", seeds, "Produce a JSON Lines file to a topic: TOPIC=FILE (repeatable)");
  app.add_option("--tail", tails, "Print each message of TOPIC as a JSON line (repeatable)");
  app.footer(
      "Example:\n  kernel-dev-broker --port 9092 --partitions 8 --topic orders --seed orders=samples/input.jsonl "
      "--tail orders.out\nExit codes: 0 stopped, 64 bad command line, 69 port in use, 70 broker failure.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return kernel::tools::report_parse_error(app, error, "kernel-dev-broker");
  }

  std::map<std::string, std::string> seed_files;
  try {
    for (const auto& topic : topics) check_topic_name("--topic", topic);
    for (const auto& topic : tails) check_topic_name("--tail", topic);
    seed_files = seed_files_of(seeds);
  } catch (const UsageError& error) {
    std::cerr << "kernel-dev-broker: " << error.message << "\n";
    return kernel::exit_code::usage;
  }
  if (port != 0) {
    if (const int error = bind_error(port)) {
      std::cerr << port_in_use_message(port, error) << "\n";
      return kernel::exit_code::unavailable;
    }
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  try {
    requested_port = port;
    kernel::EmbeddedBroker broker;
    requested_port = 0;
    if (port != 0 && broker.bootstrap_servers() != "127.0.0.1:" + std::to_string(port)) {
      std::cerr << "kernel-dev-broker: asked for 127.0.0.1:" << port << " but the broker listens on "
                << broker.bootstrap_servers() << "\n";
      return kernel::exit_code::software;
    }
    for (const auto& topic : topics) broker.create_topic(topic, partitions);
    for (const auto& topic : tails) broker.create_topic(topic, partitions);
    for (const auto& [topic, file] : seed_files) {
      broker.create_topic(topic, partitions);
      const auto records = kernel::jsonl::read_file(file);
      kernel::detail::produce_records(broker.bootstrap_servers(), topic, records);
      std::cerr << "kernel-dev-broker: seeded " << kernel::detail::count_of(records.size(), "message") << " into "
                << topic << "\n";
    }
    std::cout << "KAFKA_BOOTSTRAP_SERVERS=" << broker.bootstrap_servers() << std::endl;
    std::cerr << "kernel-dev-broker: development broker on " << broker.bootstrap_servers()
              << " (in memory, no TLS or SASL; not for production). Stop with Ctrl-C.\n";

    kernel::detail::HandlePtr tailer;
    if (!tails.empty()) {
      tailer = kernel::detail::make_plain_client(RD_KAFKA_CONSUMER, broker.bootstrap_servers(),
                                                 {{"group.id", "kernel-dev-broker-tail"},
                                                  {"enable.auto.commit", "false"},
                                                  {"allow.auto.create.topics", "false"}});
      kernel::detail::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(0));
      for (const auto& topic : tails) {
        for (int p = 0; p < partitions; ++p) {
          rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
      }
      rd_kafka_assign(tailer.get(), assignment.get());
    }
    while (!stop_requested) {
      if (!tailer) {
        // Nothing to do but stay up; the cluster runs on its own thread.
        struct timespec pause {
          0, 100'000'000
        };
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
    // The broker keeps nothing on disk: say what its stop took with it.
    std::cerr << stopped_line(stop_requested, contents_of(broker.bootstrap_servers(), std::chrono::seconds(2)))
              << std::endl;
  } catch (const kernel::jsonl::ParseError& error) {
    std::cerr << "kernel-dev-broker: " << error.what() << "\n";
    return kernel::exit_code::usage;
  } catch (const std::exception& error) {
    std::cerr << "kernel-dev-broker: " << error.what() << "\n";
    return kernel::exit_code::software;
  }
  return 0;
}
