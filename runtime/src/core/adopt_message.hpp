#pragma once
// How the runtime turns a consumed librdkafka message into a Message without copying it: the
// Message owns it, and its key, value and topic are views into it. Handlers never do this, so
// the public header only names detail::ConsumedMessage; its definition is here.
#include <utility>

#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/message.hpp"

namespace kernel::detail {

struct ConsumedMessage {
  MessagePtr raw;
};

/// Takes ownership of a consumed librdkafka message (destroyed with the Message).
inline Message adopt_message(MessagePtr raw) { return Message(ConsumedMessage{std::move(raw)}); }

}  // namespace kernel::detail
