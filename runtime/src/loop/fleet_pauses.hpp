#pragma once
// The fleet-wide pauses in force, from the control topic's commands read in order
// (docs/operations.md#fleet-wide-pause). The last command wins: a command for a scope replaces
// every earlier command for that scope and for the scopes inside it (a whole-kernel resume
// ends a partition's pause too), while a command for a narrower scope leaves a wider pause in
// place (resuming one partition of a paused kernel keeps it paused). A tombstone clears its own
// key only, as compaction would. Replaying the compacted topic gives the same pauses, since
// compaction keeps each key's last record in its place.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/fleet_command.hpp"

namespace kernel::detail {

class FleetPauses {
 public:
  void apply(const FleetCommand& command) {
    const auto key = fleet_key(command.scope);
    if (command.tombstone) {
      in_force_.erase(key);
      return;
    }
    std::erase_if(in_force_, [&](const auto& entry) { return within(entry.second.scope, command.scope); });
    if (command.pause) in_force_[key] = command;
  }
  /// Whether applying `command` leaves at most `max` pauses in force. A command that adds none
  /// (a resume, a tombstone, a pause already in force) or replaces narrower ones (a kernel- or
  /// topic-wide pause) is always admitted: the way out of a flood of partition pauses.
  bool admits(const FleetCommand& command, std::size_t max) const {
    if (!command.pause || command.tombstone || in_force_.size() < max) return true;
    if (in_force_.contains(fleet_key(command.scope))) return true;
    // A wider one replaces at least one pause in force, so it never adds to them.
    return std::any_of(in_force_.begin(), in_force_.end(),
                       [&](const auto& entry) { return within(entry.second.scope, command.scope); });
  }
  /// The pause that holds `topic`[`partition`], widest first; null when none does.
  const FleetCommand* covering(const std::string& topic, std::int32_t partition) const {
    for (const FleetScope& scope : {FleetScope{}, FleetScope{topic, -1}, FleetScope{topic, partition}}) {
      if (const auto found = in_force_.find(fleet_key(scope)); found != in_force_.end()) return &found->second;
    }
    return nullptr;
  }
  bool empty() const noexcept { return in_force_.empty(); }
  /// Every pause in force, by key.
  const std::map<std::string, FleetCommand>& in_force() const noexcept { return in_force_; }

 private:
  /// `inner` is `outer` or lies inside it.
  static bool within(const FleetScope& inner, const FleetScope& outer) {
    if (outer.topic.empty()) return true;
    if (inner.topic != outer.topic) return false;
    return outer.partition < 0 || inner.partition == outer.partition;
  }
  std::map<std::string, FleetCommand> in_force_;
};

}  // namespace kernel::detail
