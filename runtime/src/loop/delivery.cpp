// The loop's side of deliveries: what an acknowledgement or a failure of a record means for
// its input (settling what completed, dead-lettering an input whose output failed for good),
// waiting for outputs, and stopping on a fatal librdkafka error. Producing and following the
// records is the output sender's (output_sender.hpp).
#include "loop/kernel_loop.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include "loop/commit_strategy.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

void KernelLoop::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<KernelLoop*>(opaque);
  // Not acknowledged: sent again later, given up or stopping (the sender says so through OutputEvents).
  const auto* delivery = self->output_.delivered(message);
  if (!delivery) return;
  if (self->hooks_.on_delivered) self->hooks_.on_delivered(message, delivery->dead_letter);
  self->settle(*delivery->entry->owner);
}

void KernelLoop::stop_on_fatal_error(rd_kafka_t* client) {
  if (exit_code_ == exit_code::software) return;
  std::array<char, 512> reason{};
  const auto err = rd_kafka_fatal_error(client, reason.data(), reason.size());
  fatal_reason_ = err ? std::string(rd_kafka_err2name(err)) + ": " + reason.data() : "fatal librdkafka error";
  if (commits_ && commits_->exactly_once() && client == output_.producer()) {
    fatal_reason_ = commits_->fatal_reason();  // names the transactional.id
  }
  log_->critical("fatal error in the {} ({}); stopping: what was not committed is delivered again after a restart",
                 client == output_.producer() ? "producer" : "consumer", fatal_reason_);
  exit_code_ = exit_code::software;
  request_stop();
}

void KernelLoop::wait_for_outputs(Clock::time_point deadline, const rd_kafka_topic_partition_list_t* partitions) {
  // rd_kafka_flush() sends at once what linger.ms would hold back, and serves delivery
  // reports; between slices, resends that came due go out again.
  const auto pending = [&] { return partitions ? table_.pending_acks(partitions) : output_.pending(); };
  while (pending() > 0 && Clock::now() < deadline && exit_code_ != exit_code::software &&
         !(commits_ && commits_->must_abort())) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    rd_kafka_flush(output_.producer(), static_cast<int>(std::clamp<long long>(left, 0, 50)));
    output_.resend_due();
  }
}

void KernelLoop::settle(PartitionState& partition) {
  // Producing a dead letter below can serve delivery reports, which settle again: the outer
  // call finishes the work, so the inner one must not touch the entries it walks.
  if (settling_) return;
  settling_ = true;
  if (partition.failed_outputs > 0 && !partition.retired) output_.dead_letter_failed_outputs(partition);
  const auto before = partition.tracker.in_flight();
  partition.tracker.advance();
  table_.advanced(partition, before);
  settling_ = false;
}

}  // namespace kernel::detail
