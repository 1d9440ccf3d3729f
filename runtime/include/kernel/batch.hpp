#pragma once
/// The batch handler: up to KERNEL_BATCH_SIZE messages of one partition, in offset order, in one
/// call, for sinks that write many rows at once (docs/batches.md).
///
///   spec.batch_handler = [&](kernel::Batch& batch, kernel::Context& context) {
///     std::vector<Row> rows;
///     for (std::size_t i = 0; i < batch.size(); ++i) {
///       try {
///         rows.push_back(batch[i].as<Row>());
///       } catch (const kernel::KernelError& error) {
///         batch.fail(i, error);  // this message only: dead-lettered, the others go on
///       }
///     }
///     database.insert_all(rows);  // throwing here fails the whole batch (a TransientError is
///                                 // retried as a batch, with backoff)
///     for (std::size_t i = 0; i < batch.size(); ++i) {
///       if (!batch.failed(i)) batch.produce(i, kernel::Outgoing{}.json({{"stored", batch[i].offset()}}));
///     }
///   };
///
/// Each output belongs to the message it was produced for: its causation-id, correlation-id
/// and retry-count come from that message, and it is sent only if that message succeeds.
/// Context::produce() has no message to attribute an output to: in a batch handler it fails the
/// whole batch (permanent); use batch.produce(i, ...).
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "kernel/context.hpp"
#include "kernel/errors.hpp"
#include "kernel/message.hpp"
#include "kernel/outcome.hpp"
#include "kernel/outgoing.hpp"
#include "kernel/trace.hpp"

namespace kernel {

/// The messages of one call of a batch handler and what the handler decided for each.
class Batch {
 public:
  using const_iterator = std::span<const Message>::iterator;

  /// The runtime and testing::call() build batches; `transient` are the kernel's own transient
  /// exception types (KernelSpec::transient_errors), for fail(i, exception).
  Batch(std::span<const Message> messages, Context& context, const TransientTypes* transient = nullptr);
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  std::size_t size() const noexcept { return messages_.size(); }
  bool empty() const noexcept { return messages_.empty(); }
  /// Message `i` (0 is the lowest offset); throws std::out_of_range past size().
  const Message& operator[](std::size_t i) const;
  const_iterator begin() const noexcept { return messages_.begin(); }
  const_iterator end() const noexcept { return messages_.end(); }
  /// The partition every message of the batch comes from.
  std::string_view topic() const noexcept;
  std::int32_t partition() const noexcept;

  /// Queues an output for message `i`: sent, with the standard headers taken from message `i`,
  /// once the call returns and if message `i` has not failed. Producer middleware runs first,
  /// with message `i` as its input. Errors are thrown as by Context::produce(); a topic the
  /// produce guard refuses fails message `i` (topic_not_allowed) even if the handler catches it.
  void produce(std::size_t i, Outgoing message);
  /// As Context::produce_to(): to the named output `output` (KernelSpec::outputs).
  void produce_to(std::size_t i, std::string_view output, Outgoing message);
  /// As Context::reply(): answers message `i`, a request (its reply-to, key and correlation id);
  /// a missing or refused reply-to fails message `i` alone.
  void reply(std::size_t i, Outgoing message);

  /// Fails message `i` alone, classified like an exception the single-message handler throws:
  /// permanent (and unknown types) are dead-lettered, business errors go to the error topic,
  /// transient ones are retried in a follow-up batch of the failed messages, a FatalError stops
  /// the kernel. Its outputs are discarded. The first failure of a message counts.
  void fail(std::size_t i, const std::exception& error);
  /// The same for a caught exception (`std::current_exception()`).
  void fail(std::size_t i, const std::exception_ptr& error);
  /// The same with an Outcome (a non-success one).
  void fail(std::size_t i, Outcome outcome);

  /// Whether message `i` has been failed.
  bool failed(std::size_t i) const { return failures_.at(i).has_value(); }
  /// Message `i`'s outcome: success unless it was failed.
  Outcome outcome(std::size_t i) const;
  /// What was produced for message `i` (kept even after a failure, which discards it).
  const std::vector<Outgoing>& outputs(std::size_t i) const { return outputs_.at(i); }
  /// The call's Context (attempt, deadline, settings, log).
  Context& context() const noexcept { return *context_; }
  /// The trace context of message `i`'s handling: its input's trace, the span its outputs name
  /// as their parent (docs/interop.md): for a call the handler makes for that message. One call
  /// handles many messages, each in its own trace, so context.trace() names none of them (it is
  /// empty). Throws std::out_of_range past size().
  TraceContext trace(std::size_t i) const;

 private:
  void check(std::size_t i) const;

  std::span<const Message> messages_;
  Context* context_;
  const TransientTypes* transient_;
  std::vector<std::optional<Outcome>> failures_;
  std::vector<std::vector<Outgoing>> outputs_;
};

/// A batch handler: `(Batch&, Context&)`. Throwing fails the whole batch (classified like a
/// single-message handler's exception); batch.fail(i, ...) fails one message.
using BatchHandler = std::function<void(Batch&, Context&)>;

}  // namespace kernel
