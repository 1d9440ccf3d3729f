#include "core/reply.hpp"

#include <string>

#include "core/printable_text.hpp"
#include "kernel/config.hpp"
#include "kernel/context.hpp"
#include "kernel/errors.hpp"
#include "kernel/headers.hpp"

namespace kernel {

namespace detail {

void address_reply(const Message& request, Outgoing& reply, ContextState& state) {
  const auto reply_to = request.header(header::reply_to);
  if (!reply_to || reply_to->empty()) {
    state.refuse(
        "reply(): the message has no reply-to header, so it is not a request to answer (a handler that also gets "
        "other messages checks message.header(\"reply-to\") first)",
        FailureReason::validation_error);
  }
  // The header comes from whoever sent the request: judged before it names anything.
  if (auto problem = topic_name_problem(*reply_to); !problem.empty()) {
    state.refuse("reply(): reply-to \"" + printable_text(*reply_to, Quotes::escaped, 64) + "\" " + problem,
                 FailureReason::validation_error);
  }
  std::string topic(*reply_to);
  if (state.exact_topic_check) {
    if (auto why = state.exact_topic_check(topic); !why.empty()) {
      state.refuse("reply to " + topic + " refused: " + why, FailureReason::reply_to_not_allowed);
    }
  }
  reply.exact_topic(std::move(topic));
  if (!reply.key()) reply.key(request.key());
  // The requester matches the reply by this id: the request's, whatever the handler set. Readers
  // take a header's last value and the stamper writes extra headers after the standard ones, so a
  // handler's own correlation-id (or reply-to) header would win: dropped.
  reply.erase_header(header::correlation_id).erase_header(header::reply_to);
  if (const auto correlation = request.header(header::correlation_id); correlation && !correlation->empty()) {
    reply.correlation_id(std::string(*correlation));
  }
}

}  // namespace detail

void Context::reply(Outgoing message) {
  if (!attempt_->input) {
    state_->refuse("reply() without a message being handled (in a batch handler: batch.reply(i, ...))",
                   FailureReason::processing_error);
  }
  detail::address_reply(*attempt_->input, message, *state_);
  produce(std::move(message));
}

}  // namespace kernel
