#pragma once
// Answering a request (docs/producer.md#requests-and-replies): a reply goes to the request's
// `reply-to` topic, named in full, keyed as the request, with its correlation id, and joins the
// attempt's outputs like any produce(). Context::reply() and Batch::reply() share it.
#include "core/context_state.hpp"
#include "kernel/message.hpp"
#include "kernel/outgoing.hpp"

namespace kernel::detail {

/// Addresses `reply` to `request`: its topic the request's `reply-to` (no KAFKA_TOPIC_PREFIX),
/// its key the request's unless it has one, its correlation id the request's. A request without
/// a valid `reply-to` (absent, empty, not a topic name) is refused as validation_error, a
/// reply-to the produce guard refuses as reply_to_not_allowed: through state.refuse(), so the
/// attempt fails even if the handler catches the PermanentError.
void address_reply(const Message& request, Outgoing& reply, ContextState& state);

}  // namespace kernel::detail
