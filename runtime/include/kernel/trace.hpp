#pragma once
/// W3C Trace Context (https://www.w3.org/TR/trace-context/) of the message being handled, as
/// context.trace() gives it: the input's trace id (or a new one when it carried none or a
/// malformed one), this handling's own span id, and the flags. docs/interop.md.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kernel {

namespace detail {
struct TraceContextAccess;  // the runtime's: makes one from ids it has checked already
}  // namespace detail

/// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`: what traceparent() writes.
inline constexpr std::size_t traceparent_length = 55;

class TraceContext {
 public:
  /// Empty: outside a handling.
  TraceContext() = default;
  /// From lowercase hex ids (32 and 16 characters, not all zeros); anything else gives an
  /// empty TraceContext.
  TraceContext(std::string_view trace_id, std::string_view span_id, std::uint8_t flags) noexcept;

  bool empty() const noexcept { return !set_; }
  /// 32 lowercase hex characters ("" when empty): the same in every record of the trace.
  std::string_view trace_id() const noexcept { return set_ ? std::string_view(trace_id_.data(), 32) : ""; }
  /// 16 lowercase hex characters ("" when empty): this handling's own span.
  std::string_view span_id() const noexcept { return set_ ? std::string_view(span_id_.data(), 16) : ""; }
  std::uint8_t flags() const noexcept { return flags_; }
  /// The caller recorded (or may record) this trace: the flags' lowest bit, kept as it came.
  bool sampled() const noexcept { return (flags_ & 1) != 0; }

  /// The `traceparent` header for the next hop (an HTTP call the handler makes): this trace,
  /// this handling's span as the parent, the same flags. "" when empty.
  std::string traceparent() const;
  /// The same 55 characters written to `out`, without allocating; nothing when empty.
  void write_traceparent(char* out) const noexcept;

 private:
  friend struct detail::TraceContextAccess;

  std::array<char, 32> trace_id_{};
  std::array<char, 16> span_id_{};
  std::uint8_t flags_ = 0;
  bool set_ = false;
};

}  // namespace kernel
