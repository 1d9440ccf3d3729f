#pragma once
// What a failed produce means for the message: send it again, give it up (the input is
// dead-lettered), shrink it (a dead letter too large), or stop the kernel. The table is in
// produce_errors.cpp and docs/failure-handling.md.
#include <librdkafka/rdkafka.h>

namespace kernel::detail {

enum class ProduceErrorKind {
  passing,    ///< the broker is away, busy or slow: send it again later; the partition waits
  final,      ///< sending the same message again cannot succeed (refused, unknown, invalid)
  too_large,  ///< final for an output; a dead letter is shrunk until it fits
  fatal,      ///< the producer is unusable (a fatal error was raised): the kernel stops, exit 70
};

/// Classifies a delivery report's or rd_kafka_producev()'s error. Anything not known to be
/// final or fatal is passing: a message is never given up on a guess.
ProduceErrorKind classify_produce_error(rd_kafka_resp_err_t err) noexcept;

}  // namespace kernel::detail
