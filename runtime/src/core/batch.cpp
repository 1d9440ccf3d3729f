#include "kernel/batch.hpp"

#include <stdexcept>
#include <string>

#include "core/context_access.hpp"
#include "core/current_exception.hpp"
#include "core/reply.hpp"
#include "core/trace_context.hpp"

namespace kernel {

namespace {

/// Restores the context's input after a produce for one message, thrown or not.
struct InputScope {
  Context& context;
  const Message* previous;
  ~InputScope() { detail::ContextAccess::set_input(context, previous); }
};

}  // namespace

Batch::Batch(std::span<const Message> messages, Context& context, const TransientTypes* transient)
    : messages_(messages),
      context_(&context),
      transient_(transient),
      failures_(messages.size()),
      outputs_(messages.size()) {}

void Batch::check(std::size_t i) const {
  if (i >= messages_.size()) {
    throw std::out_of_range("batch message " + std::to_string(i) + " of a batch of " +
                            std::to_string(messages_.size()));
  }
}

const Message& Batch::operator[](std::size_t i) const {
  check(i);
  return messages_[i];
}

std::string_view Batch::topic() const noexcept { return messages_.empty() ? std::string_view() : messages_[0].topic(); }

std::int32_t Batch::partition() const noexcept { return messages_.empty() ? -1 : messages_[0].partition(); }

void Batch::produce(std::size_t i, Outgoing message) {
  check(i);
  auto& queued = detail::ContextAccess::produced(*context_);
  const auto before = queued.size();
  {
    InputScope scope{*context_, context_->input()};
    detail::ContextAccess::set_input(*context_, &messages_[i]);
    try {
      context_->produce(std::move(message));
    } catch (...) {
      // The guard's refusal fails this message even if the handler catches the exception.
      if (const auto& refused = detail::ContextAccess::produce_refusal(*context_); !refused.message.empty()) {
        fail(i, refused.outcome());
        detail::ContextAccess::clear_produce_refusal(*context_);
      }
      queued.resize(before);
      throw;
    }
  }
  // Producer middleware may have queued none, one or several: all belong to message i.
  for (auto at = before; at < queued.size(); ++at) outputs_[i].push_back(std::move(queued[at]));
  queued.resize(before);
}

void Batch::produce_to(std::size_t i, std::string_view output, Outgoing message) {
  check(i);
  std::string topic;
  try {
    topic = context_->kernel_values().output_topic(output);
  } catch (const std::logic_error& error) {
    throw PermanentError(std::string("produce_to(): ") + error.what());
  }
  message.topic(std::move(topic));
  produce(i, std::move(message));
}

void Batch::reply(std::size_t i, Outgoing message) {
  check(i);
  try {
    detail::address_reply(messages_[i], message, context_->runtime_state());
  } catch (...) {
    // As a refused produce: message i fails, even if the handler catches the exception.
    if (const auto& refused = detail::ContextAccess::produce_refusal(*context_); !refused.message.empty()) {
      fail(i, refused.outcome());
      detail::ContextAccess::clear_produce_refusal(*context_);
    }
    throw;
  }
  produce(i, std::move(message));
}

void Batch::fail(std::size_t i, const std::exception& error) {
  fail(i, Outcome::from_exception(error, transient_ ? *transient_ : TransientTypes{}));
}

void Batch::fail(std::size_t i, const std::exception_ptr& error) {
  check(i);
  if (!error) throw std::invalid_argument("Batch::fail(): a null exception_ptr");
  try {
    std::rethrow_exception(error);
  } catch (...) {
    fail(i, detail::outcome_of_current_exception(transient_ ? *transient_ : TransientTypes{}));
  }
}

void Batch::fail(std::size_t i, Outcome outcome) {
  check(i);
  if (outcome.ok()) throw std::invalid_argument("Batch::fail(): a success is no failure");
  if (!failures_[i]) failures_[i] = std::move(outcome);
}

TraceContext Batch::trace(std::size_t i) const {
  check(i);
  return detail::handling_trace_of(messages_[i]).trace;  // what its outputs' traceparent continues
}

Outcome Batch::outcome(std::size_t i) const {
  check(i);
  return failures_[i] ? *failures_[i] : Outcome::success();
}

}  // namespace kernel
