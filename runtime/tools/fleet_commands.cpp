// kernel-admin pause|resume (fleet_commands.hpp): one record, key and value from
// core/fleet_command.hpp, written to partition 0 of the control topic so that every command
// keeps one order, and acknowledged before the tool says it is done.
#include "fleet_commands.hpp"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <iostream>

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "command_line.hpp"
#include "config/pipeline_naming.hpp"
#include "connection.hpp"
#include "core/fleet_command.hpp"
#include "core/rfc3339.hpp"
#include "kernel/exit_codes.hpp"

namespace kernel::tools {

struct FleetCommandLine::State {
  CLI::App* pause = nullptr;
  CLI::App* resume = nullptr;
  std::string kernel;
  std::string topic;
  std::string partition;  // checked by check_arguments()
  std::string reason;
  detail::FleetCommand command;
};

namespace {

/// `user@host`, from the environment and the host name: who asked, as /admin/status shows it.
std::string who_asks() {
  const char* user = std::getenv("USER");
  if (!user || !*user) user = std::getenv("LOGNAME");
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  auto by = std::string(user && *user ? user : "unknown") + "@" + (host[0] ? host.data() : "unknown");
  if (by.size() > detail::max_fleet_text_bytes) by.resize(detail::max_fleet_text_bytes);
  return by;
}

struct Delivered {
  bool done = false;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::int64_t offset = -1;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* delivered = static_cast<Delivered*>(message->_private);
  delivered->done = true;
  delivered->err = message->err;
  delivered->offset = message->offset;
}

}  // namespace

FleetCommandLine::FleetCommandLine(CLI::App& app) : state_(std::make_unique<State>()) {
  for (auto* command : {&state_->pause, &state_->resume}) {
    const bool pause = command == &state_->pause;
    *command = app.add_subcommand(pause ? "pause" : "resume",
                                  pause ? "Pause every instance of a kernel, or a topic or partition of it"
                                        : "Resume what a fleet-wide pause holds");
    (*command)
        ->add_option("--kernel", state_->kernel, "The kernel's name: its control topic is NAME.control")
        ->required();
    (*command)->add_option("--topic", state_->topic, "Only this input topic");
    (*command)->add_option("--partition", state_->partition, "Only this partition of --topic");
    (*command)->add_option("--reason", state_->reason, "Why, shown in each instance's /admin/status and log");
  }
}

FleetCommandLine::~FleetCommandLine() = default;

bool FleetCommandLine::chosen() const { return state_->pause->parsed() || state_->resume->parsed(); }

int FleetCommandLine::check_arguments() {
  auto& s = *state_;
  const auto refuse = [](const std::string& why) {
    std::cerr << "kernel-admin: " << why << '\n';
    return exit_code::usage;
  };
  if (const auto why = topic_name_problem(s.kernel); !why.empty()) {
    return refuse("--kernel " + s.kernel + ": its control topic's name " + why);
  }
  if (!s.partition.empty() && s.topic.empty())
    return refuse("--partition needs --topic: the partition of which topic?");
  if (!s.topic.empty()) {
    if (const auto why = topic_name_problem(s.topic); !why.empty()) return refuse("--topic " + s.topic + " " + why);
  }
  auto& command = s.command;
  if (!s.partition.empty()) {
    const auto number = parse_whole_number(s.partition, 0, 2'147'483'647);
    if (!number) return refuse("--partition " + s.partition + ": expected a partition number from 0 to 2147483647");
    command.scope.partition = static_cast<std::int32_t>(*number);
  }
  if (s.reason.size() > detail::max_fleet_text_bytes) {
    return refuse("--reason is " + std::to_string(s.reason.size()) + " bytes long: at most " +
                  std::to_string(detail::max_fleet_text_bytes));
  }
  for (const char c : s.reason) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return refuse("--reason has a control character");
  }
  command.pause = s.pause->parsed();
  command.scope.topic = s.topic;
  command.reason = s.reason;
  return exit_code::ok;
}

int FleetCommandLine::run(const Config& config, int timeout_ms, bool json) {
  auto& command = state_->command;
  // The kernel's own naming (KAFKA_TOPIC_PREFIX, pipeline naming) from this environment.
  auto settings = config.settings();
  settings.kernel_name = state_->kernel;
  const auto topic = control_topic(settings);
  command.by = who_asks();
  command.at = detail::format_rfc3339(detail::now_epoch_ms());

  Connection connection(config, timeout_ms);
  Delivered delivered;
  auto producer = connection.producer(&on_delivery);
  const auto topics = connection.topics(producer.get());
  if (!topics.contains(topic)) {
    throw Failure{exit_code::unavailable,
                  "control topic " + topic + " does not exist on " + connection.servers() +
                      ": start the kernel once with --create-topics, or create it (1 partition, "
                      "cleanup.policy=compact)"};
  }
  if (!command.scope.topic.empty()) {
    const auto found = topics.find(command.scope.topic);
    if (found == topics.end()) {
      throw Failure{exit_code::unavailable,
                    "topic " + command.scope.topic + " does not exist on " + connection.servers()};
    }
    if (command.scope.partition >= found->second) {
      throw Failure{exit_code::usage, "--partition " + std::to_string(command.scope.partition) + ": " +
                                          command.scope.topic + " has " + std::to_string(found->second) +
                                          " partitions"};
    }
  }
  const auto key = detail::fleet_key(command.scope);
  const auto value = detail::encode_fleet_command(command);
  const auto err = rd_kafka_producev(
      producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_OPAQUE(&delivered), RD_KAFKA_V_END);
  if (err) throw Failure{exit_code::unavailable, "cannot write to " + topic + ": " + rd_kafka_err2str(err)};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!delivered.done && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_poll(producer.get(), 100);
    connection.check_refusal();
  }
  if (!delivered.done) {
    // The record may still be written: say so rather than guess.
    throw Failure{exit_code::unavailable, "no acknowledgement from " + connection.servers() + " within " +
                                              std::to_string(timeout_ms) + " ms; the command to " + topic +
                                              " may or may not have been written: look with topic-stats"};
  }
  if (delivered.err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
    throw Failure{exit_code::no_permission, "writing to " + topic + " refused: " + rd_kafka_err2str(delivered.err) +
                                                " (an operator needs Write on it)"};
  }
  if (delivered.err) {
    throw Failure{exit_code::unavailable, "writing to " + topic + " failed: " + rd_kafka_err2str(delivered.err)};
  }
  const auto verb = command.pause ? "pause" : "resume";
  if (json) {
    std::cout << nlohmann::json{{"command", verb},
                                {"kernel", state_->kernel},
                                {"scope", command.scope.describe()},
                                {"topic", topic},
                                {"partition", 0},
                                {"offset", delivered.offset},
                                {"key", key},
                                {"value", nlohmann::json::parse(value)}}
                     .dump()
              << '\n';
  } else {
    std::cout << "wrote " << verb << " of " << command.scope.describe() << " for every instance of " << state_->kernel
              << " to " << topic << "[0]@" << delivered.offset << " (key " << key << "): " << value << '\n';
  }
  return exit_code::ok;
}

}  // namespace kernel::tools
