#pragma once
// order-auditor's business logic: one call per consumed message.
//
// This file and handler.cpp are yours: new-kernel writes them once and never touches them
// again. The runtime calls handle() for each message, in order within a partition.
// With KERNEL_CONCURRENCY above 1 it calls handle() on several threads at once (messages of
// one key still one at a time, in order: KERNEL_ORDERING), so handle() must be thread-safe:
// guard shared state, or keep none. Each call gets its own Context (docs/concurrency.md).
#include <cstdint>

#include <kernel/kernel.hpp>

namespace order_auditor {

/// Handles one message (its format: docs/message-spec.md).
///
/// Returning normally completes it: its offset is committed once everything produced
/// through `context` is acknowledged. To say otherwise, throw
///  - kernel::TransientError  for a passing failure: retried with backoff, then dead-lettered;
///  - kernel::PermanentError  for a message that can never be handled: dead-lettered at once;
///  - kernel::BusinessError   for an expected refusal: logged, counted and committed;
///  - kernel::FatalError      when the kernel cannot go on: it stops and exits 1.
/// Other exceptions count as transient or permanent by their message.
void handle(const kernel::Message& message, kernel::Context& context);

/// How many messages handle() has completed since the process started.
std::uint64_t handled_count() noexcept;

}  // namespace order_auditor
