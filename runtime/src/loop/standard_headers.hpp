#pragma once
// The standard headers every produced message carries (event-id, correlation-id,
// causation-id, source, timestamp, content-type, the trace context, and the optional ones),
// written into a librdkafka header list without building intermediate strings.
#include <array>
#include <cstdint>
#include <string_view>

#include <librdkafka/rdkafka.h>  // rd_kafka_headers_t

#include "core/rfc3339.hpp"
#include "kernel/detail/rdkafka_handles.hpp"
#include "kernel/message.hpp"
#include "kernel/outgoing.hpp"

namespace kernel::detail {

/// UUID v4 text from a fast generator seeded from the OS (ids, not secrets).
class UuidGenerator {
 public:
  UuidGenerator();
  /// Writes 36 characters.
  void next(char* out) noexcept;

 private:
  std::uint64_t state_[2];
};

/// The current time as RFC 3339 (core/rfc3339.hpp), formatted at most once per millisecond.
class TimestampFormatter {
 public:
  /// 24 characters: 2026-11-23T03:09:38.123Z
  std::string_view now() noexcept;

 private:
  std::int64_t cached_ms_ = -1;
  std::array<char, rfc3339_length> text_{};
};

/// traceparent or tracestate: replaced, not copied, when a record is built from an input.
bool is_trace_header(std::string_view header_name) noexcept;

/// Adds the traceparent (and tracestate) of the handling of `input` (core/trace_context.hpp):
/// its trace, its span as the parent. For every record written while handling it.
void add_trace_headers(rd_kafka_headers_t* headers, const Message& input);

class HeaderStamper {
 public:
  explicit HeaderStamper(std::string_view source) : source_(source) {}
  /// A new header list with the standard headers for `output`, produced while handling
  /// `input` on attempt `attempt`. Released only into rd_kafka_producev(), which takes it.
  /// The trace context continues the input's, unless the handler set a traceparent of its own
  /// (one other than the input's: a copied one is replaced).
  HeadersPtr stamp(const Outgoing& output, const Message* input, int attempt);

 private:
  std::string_view source_;
  UuidGenerator uuids_;
  TimestampFormatter clock_;
};

}  // namespace kernel::detail
