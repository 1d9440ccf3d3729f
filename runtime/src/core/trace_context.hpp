#pragma once
// W3C Trace Context: the traceparent parser, the tracestate check, and the trace a handling
// continues. A handling's trace is derived from its input alone (its headers, its topic,
// partition and offset, and a seed drawn once per process), so every place that writes one of
// its records (outputs, dead letters, retry-topic copies, error-topic records) derives the same
// ids without the loop carrying them from the handler call to the write.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>

#include "kernel/trace.hpp"

namespace kernel {
class Message;
}

namespace kernel::detail {

/// Makes a TraceContext from ids already checked (parse_traceparent()) or made here: the
/// public constructor checks its arguments again, which costs per message.
struct TraceContextAccess {
  static TraceContext make(const char* trace_id, const char* span_id, std::uint8_t flags) noexcept {
    TraceContext trace;
    std::copy(trace_id, trace_id + 32, trace.trace_id_.begin());
    std::copy(span_id, span_id + 16, trace.span_id_.begin());
    trace.flags_ = flags;
    trace.set_ = true;
    return trace;
  }
};

/// The spec's bounds on tracestate: beyond them it is dropped rather than cut.
inline constexpr std::size_t max_tracestate_bytes = 512;
inline constexpr std::size_t max_tracestate_members = 32;

struct ParsedTraceparent {
  std::string_view trace_id;   ///< 32 lowercase hex, not all zeros
  std::string_view parent_id;  ///< 16 lowercase hex, not all zeros
  std::uint8_t flags = 0;
};

/// A traceparent header value: version 00 exactly 55 characters; a later version (not ff) at
/// least 55, its first four fields read and the rest ignored when a '-' follows them. nullopt
/// for anything else (wrong length, a character that is not lowercase hex, version ff,
/// all-zero ids).
std::optional<ParsedTraceparent> parse_traceparent(std::string_view value) noexcept;

/// True if a tracestate value may be passed on: at most max_tracestate_bytes of printable
/// ASCII, at most max_tracestate_members list members.
bool acceptable_tracestate(std::string_view value) noexcept;

/// What a handling of `input` continues.
struct HandlingTrace {
  TraceContext trace;  ///< the input's trace id and flags (or a new trace), this handling's span
  /// The input's tracestate to pass on: "" when absent, unacceptable, or the traceparent was
  /// replaced. A view into the input's headers.
  std::string_view tracestate;
  /// The input carried a traceparent that had to be replaced, or a tracestate that was dropped.
  bool malformed = false;
};

/// Reads the input's traceparent and tracestate headers; the span id (and a new trace id) come
/// from a fast keyed hash of the input's topic, partition and offset with the process's seed:
/// no syscall, no allocation, the same answer every time for the same input in this process.
HandlingTrace handling_trace(const Message& input) noexcept;

/// The handling under way on this thread, if any: what log lines and context.trace() show.
struct CurrentTrace {
  const Message* input = nullptr;  ///< null outside a handling
  HandlingTrace handling;
};
const CurrentTrace& current_trace() noexcept;

/// The handling of `input`: the current one when it is `input`'s (a record written while
/// handling it, the usual case: no second derivation), else derived.
HandlingTrace handling_trace_of(const Message& input) noexcept;

/// Makes `input`'s handling the current one for its lifetime (the previous one is restored):
/// derived here unless it is already the current one.
class TraceScope {
 public:
  explicit TraceScope(const Message& input) noexcept;
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

 private:
  CurrentTrace saved_;
  bool owns_ = false;
};

}  // namespace kernel::detail
