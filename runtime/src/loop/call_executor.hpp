#pragma once
// How a message's handler call is run, chosen once at start: on the loop thread
// (InlineExecutor, held by the loop directly so a message pays no virtual call), on
// KERNEL_CONCURRENCY's workers through KERNEL_ORDERING's lanes (WorkerExecutor), or collected
// into batches for KernelSpec::batch_handler (BatchExecutor). The loop calls an executor at a
// few points; each finished attempt comes back to the loop's conclude() through ExecutorHost.
#include <chrono>
#include <cstddef>

#include <librdkafka/rdkafka.h>

#include "kernel/message.hpp"

namespace kernel::detail {

struct InFlight;
struct PartitionState;

class CallExecutor {
 public:
  using Clock = std::chrono::steady_clock;

  /// Where the breaker's probe comes from when the circuit turns half-open.
  enum class Probe {
    started,          ///< a call waiting in the executor went out as the probe
    none_waiting,     ///< none waits in the executor: the partitions resume until the next outcome
    from_retry_slot,  ///< the executor keeps no waiting calls: a partition's retry slot probes
  };

  virtual ~CallExecutor() = default;

  /// A message just received: true when the executor keeps it (a batch collects it); false
  /// when the loop handles it as one call (and process() offers it to take()).
  virtual bool collect(PartitionState&, InFlight&, Message&) { return false; }
  /// One call of `message` as attempt `attempt`: true when taken (moved from `message`,
  /// concluded later through the host); false when the loop calls the handler itself (a batch
  /// kernel's single calls, a batch of one).
  virtual bool take(PartitionState&, InFlight&, Message&, int /*attempt*/) { return false; }
  /// Work will come back soon (collected messages, calls out on workers): the loop polls briefly.
  virtual bool busy() const noexcept = 0;
  /// Concludes the calls that came back; each iteration.
  virtual void conclude_returned() {}
  /// Housekeeping: starts what is due at `now`; returns when its next waiting work is due (max: none).
  virtual Clock::time_point tick(Clock::time_point now) = 0;
  /// Partitions became held (the breaker opened, an operator paused): what of theirs has not
  /// started waits for the hold to end.
  virtual void hold() {}
  /// The circuit turned half-open.
  virtual Probe probe() { return Probe::from_retry_slot; }
  /// A partition was assigned, or rewound to fresh state.
  virtual void assigned(PartitionState& /*fresh*/) {}
  /// A revoked partition: what the executor keeps of it is dropped unhandled (delivered again).
  virtual void drop(PartitionState&) noexcept {}
  /// An aborted transaction rewinds every partition: what waits to run again is dropped.
  virtual void rewound() {}
  /// Shutdown begins: batches hand over what they collected.
  virtual void hand_over_collected() {}
  /// Revocation (`only`) and shutdown (null: all): the running calls return until `deadline`
  /// and are concluded; what has not started is dropped.
  virtual void finish(Clock::time_point /*deadline*/, const rd_kafka_topic_partition_list_t* /*only*/) {}
  /// Calls still running (after finish(): hung past the deadline).
  virtual std::size_t running() const noexcept { return 0; }
  /// Calls conclude out of offset order (exactly-once then holds their records back).
  virtual bool concurrent() const noexcept { return false; }
};

}  // namespace kernel::detail
