#pragma once
// A fleet-wide operator command (docs/operations.md#fleet-wide-pause): one record of a kernel's
// control topic, written by `kernel-admin pause|resume` and read by every instance of the
// kernel. The one definition of its key and value, for the tool that writes it and the kernel
// that reads it. A record comes from outside: every field is bounded and checked.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kernel::detail {

inline constexpr int fleet_command_version = 1;
/// A value longer than this is refused unread (a command is a few hundred bytes).
inline constexpr std::size_t max_fleet_command_bytes = 4096;
/// `reason` and `by`, in bytes.
inline constexpr std::size_t max_fleet_text_bytes = 256;
/// A key longer than this is refused ("partition/" + a 249-character topic + "/" + a number).
inline constexpr std::size_t max_fleet_key_bytes = 300;

/// What a command applies to: the whole kernel (no topic), every partition of one input
/// topic (no partition), or one partition.
struct FleetScope {
  std::string topic;            ///< empty: the whole kernel
  std::int32_t partition = -1;  ///< -1: every partition of `topic`
  bool operator==(const FleetScope&) const = default;
  /// "the kernel", "topic orders", "orders[2]": for log lines.
  std::string describe() const;
};

/// The record key of a scope: `kernel`, `topic/<topic>` or `partition/<topic>/<n>`. One key per
/// scope, so the compacted topic keeps the last command of each.
std::string fleet_key(const FleetScope& scope);

struct FleetCommand {
  bool pause = true;  ///< false: resume
  FleetScope scope;
  std::string reason;      ///< free text, may be empty
  std::string by;          ///< who asked: user@host
  std::string at;          ///< when, RFC 3339 as written
  bool tombstone = false;  ///< a record with no value: the key's scope is resumed
};

/// The record value (JSON, version 1).
std::string encode_fleet_command(const FleetCommand& command);

/// A record read back: the command, or why it is malformed (one line, safe to log).
struct FleetRecord {
  std::optional<FleetCommand> command;
  std::string error;
};
/// Parses a record of the control topic. `value` null: a tombstone (a resume of the key's
/// scope). The key must be the value's scope's key, so compaction keeps what was meant.
FleetRecord parse_fleet_record(std::optional<std::string_view> key, std::optional<std::string_view> value);

}  // namespace kernel::detail
