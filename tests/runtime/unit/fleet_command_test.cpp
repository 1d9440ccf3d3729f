// Fleet commands (docs/operations.md#fleet-wide-pause): the control topic's record format, each
// field checked, and what the commands in force are after a sequence of them.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "core/fleet_command.hpp"
#include "loop/fleet_pauses.hpp"

namespace fleet_command_test {

using kernel::detail::encode_fleet_command;
using kernel::detail::fleet_key;
using kernel::detail::FleetCommand;
using kernel::detail::FleetPauses;
using kernel::detail::FleetScope;
using kernel::detail::parse_fleet_record;

namespace {
FleetCommand command(bool pause, FleetScope scope = {}) {
  return {pause, std::move(scope), "deploy", "ops@host", "2026-12-08T02:00:00.000Z", false};
}
std::string parse_error(std::string_view key, std::string_view value) { return parse_fleet_record(key, value).error; }
}  // namespace

TEST_CASE("fleet command: written and read back, one key per scope") {
  for (const auto& scope : {FleetScope{}, FleetScope{"orders", -1}, FleetScope{"orders", 7}}) {
    const auto written = command(true, scope);
    const auto read = parse_fleet_record(fleet_key(scope), encode_fleet_command(written));
    REQUIRE_MESSAGE(read.command, read.error);
    CHECK(read.command->pause);
    CHECK(read.command->scope == scope);
    CHECK(read.command->reason == "deploy");
    CHECK(read.command->by == "ops@host");
    CHECK(read.command->at == "2026-12-08T02:00:00.000Z");
  }
  CHECK(fleet_key({}) == "kernel");
  CHECK(fleet_key({"orders", -1}) == "topic/orders");
  CHECK(fleet_key({"orders", 7}) == "partition/orders/7");
}

TEST_CASE("fleet command: a tombstone resumes its key's scope") {
  const auto read = parse_fleet_record("partition/orders/3", std::nullopt);
  REQUIRE(read.command);
  CHECK(read.command->tombstone);
  CHECK_FALSE(read.command->pause);
  CHECK(read.command->scope == FleetScope{"orders", 3});
}

TEST_CASE("fleet command: malformed records are refused with one line saying why") {
  const std::string at = R"("at":"2026-12-08T02:00:00Z")";
  CHECK(parse_error("", "{}") == "record has no key");
  CHECK(parse_fleet_record(std::nullopt, "{}").error == "record has no key");
  CHECK(parse_error("nope", "{}").find("not kernel, topic/T or partition/T/P") != std::string::npos);
  CHECK(parse_error("partition/orders/x", "{}").find("no partition number") != std::string::npos);
  CHECK(parse_error("partition/orders/99999999999", "{}").find("no partition number") != std::string::npos);
  CHECK(parse_error("topic/bad topic", "{}").find("contains a space") != std::string::npos);
  CHECK(parse_error(std::string(301, 'k'), "{}").find("at most 300") != std::string::npos);
  CHECK(parse_error("kernel", std::string(5000, ' ')).find("at most 4096") != std::string::npos);
  CHECK(parse_error("kernel", "not json") == "value is not JSON");
  CHECK(parse_error("kernel", "[1]") == "value is not a JSON object");
  CHECK(parse_error("kernel", std::string(300, '[')) == "value is not JSON");
  CHECK(parse_error("kernel", R"({"version":2,"command":"pause",)" + at + "}") == "field \"version\" is not 1");
  CHECK(parse_error("kernel", R"({"version":1,"command":"stop",)" + at + "}").find("neither") != std::string::npos);
  CHECK(parse_error("kernel", R"({"version":1,"command":"pause"})") == "field \"at\" is missing");
  CHECK(parse_error("kernel", R"({"version":1,"command":"pause","at":"yesterday"})") ==
        "field \"at\" is not an RFC 3339 time");
  CHECK(parse_error("kernel", R"({"version":1,"command":"pause","reason":7,)" + at + "}") ==
        "field \"reason\" is not a string");
  CHECK(parse_error("kernel", R"({"version":1,"command":"pause","reason":"a\u001bb",)" + at + "}") ==
        "field \"reason\" has a control character");
  CHECK(parse_error("kernel", R"({"version":1,"command":"pause","by":")" + std::string(257, 'x') + "\"," + at + "}")
            .find("longer than 256") != std::string::npos);
  CHECK(parse_error("partition/orders/1", R"({"version":1,"command":"pause","topic":"orders","partition":-1,)" + at +
                                              "}") == "field \"partition\" is not a partition number");
  // The key and the value must name one scope: compaction keeps records by key.
  CHECK(parse_error("kernel", R"({"version":1,"command":"pause","topic":"orders",)" + at + "}") ==
        "value names topic orders but the key is kernel");
}

TEST_CASE("fleet pauses: the last command wins, a wider one replacing the narrower ones before it") {
  FleetPauses pauses;
  pauses.apply(command(true, {"orders", 1}));
  CHECK(pauses.covering("orders", 1) != nullptr);
  CHECK(pauses.covering("orders", 2) == nullptr);
  pauses.apply(command(true));
  CHECK(pauses.covering("orders", 2) != nullptr);
  CHECK(pauses.in_force().size() == 1);  // the kernel's pause replaced the partition's
  // A narrower resume leaves the wider pause in place.
  pauses.apply(command(false, {"orders", 2}));
  CHECK(pauses.covering("orders", 2) != nullptr);
  pauses.apply(command(true, {"orders", -1}));
  pauses.apply(command(false));
  CHECK(pauses.empty());
  // A topic's command replaces its partitions' only.
  pauses.apply(command(true, {"orders", 1}));
  pauses.apply(command(true, {"audit", 0}));
  pauses.apply(command(false, {"orders", -1}));
  CHECK(pauses.covering("orders", 1) == nullptr);
  CHECK(pauses.covering("audit", 0) != nullptr);
}

TEST_CASE("fleet pauses: a tombstone clears its own key only") {
  FleetPauses pauses;
  pauses.apply(command(true, {"orders", 1}));
  pauses.apply(command(true));
  pauses.apply(command(true, {"orders", 1}));
  auto tombstone = command(false);
  tombstone.tombstone = true;
  pauses.apply(tombstone);
  CHECK(pauses.covering("orders", 0) == nullptr);
  CHECK(pauses.covering("orders", 1) != nullptr);
}

TEST_CASE("fleet pauses: at the bound, a command that adds a pause is refused, one that ends or replaces some is not") {
  FleetPauses pauses;
  for (int p = 0; p < 3; ++p) pauses.apply(command(true, {"orders", p}));
  const std::size_t bound = 3;
  CHECK_FALSE(pauses.admits(command(true, {"orders", 9}), bound));    // one more
  CHECK_FALSE(pauses.admits(command(true, {"refunds", -1}), bound));  // a topic with none inside
  CHECK(pauses.admits(command(true, {"orders", 1}), bound));          // already in force
  CHECK(pauses.admits(command(false, {"orders", 1}), bound));         // a resume
  CHECK(pauses.admits(command(true, {"orders", -1}), bound));         // replaces the three
  CHECK(pauses.admits(command(true, {}), bound));                     // the whole kernel
  pauses.apply(command(true, {}));
  CHECK(pauses.in_force().size() == 1);
}

}  // namespace fleet_command_test
