// Dead letters that cannot be written yet, and the error topic (KAFKA_ERROR_TOPIC). A dead
// letter is never skipped: a write that fails for a passing reason is sent again with growing
// backoff (delivery.cpp) while its partition's commit waits; here it is counted
// (kernel_dead_letter_write_failures_total) and reported at most every 30 s, because an
// unwritable dead-letter topic fails every write until it is fixed.
#include <fmt/format.h>

#include "loop/kernel_loop.hpp"
#include "loop/loop_internal.hpp"
#include "loop/partition_state.hpp"

namespace kernel::detail {

void KernelLoop::dead_letter_write_failed(const std::string& topic, rd_kafka_resp_err_t err, milliseconds delay) {
  if (metrics_) metrics_->dead_letter_write_failures().Increment();
  const auto now = Clock::now();
  if (last_dead_letter_warning_ != Clock::time_point{} && now - last_dead_letter_warning_ < std::chrono::seconds(30)) {
    ++suppressed_dead_letter_warnings_;
    return;
  }
  std::string more;
  if (suppressed_dead_letter_warnings_ > 0) {
    more = fmt::format(" ({} more {} since the last report)", suppressed_dead_letter_warnings_,
                       suppressed_dead_letter_warnings_ == 1 ? "failure" : "failures");
  }
  log_->warn("dead letter to {} not written ({}); sending it again in {} ms, its partition waits (never skipped){}",
             topic, rd_kafka_err2str(err), delay.count(), more);
  last_dead_letter_warning_ = now;
  suppressed_dead_letter_warnings_ = 0;
}

void KernelLoop::publish_business_error(PartitionState& partition, InFlight& entry, const Message& input,
                                        const Outcome& outcome, int retries) {
  // The dead-letter record's form (original bytes + dlq-* headers, class `business`), written
  // to the error topic; its delivery is tracked like a dead letter's, so the input is
  // committed only after the broker acknowledged it and a passing failure is sent again.
  dead_letter(partition, entry, input, "business", outcome.reason, outcome.error_type, outcome.message, retries,
              error_topic_);
}

}  // namespace kernel::detail
