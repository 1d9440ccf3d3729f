#include "loop/key_lanes.hpp"

namespace kernel::detail {

std::optional<std::string> lane_of(Ordering ordering, const Message& message) {
  switch (ordering) {
    case Ordering::none: return std::nullopt;
    case Ordering::partition: return std::string();
    case Ordering::key: break;
  }
  const auto key = message.key();
  if (!key) return std::string();  // null keys keep the partition's order among themselves
  std::string lane;
  lane.reserve(key->size() + 1);
  lane += 'k';
  lane += *key;
  return lane;
}

}  // namespace kernel::detail
