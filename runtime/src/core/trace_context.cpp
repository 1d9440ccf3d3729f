#include "core/trace_context.hpp"

#include <algorithm>
#include <random>

#include "kernel/message.hpp"

namespace kernel {

namespace {

bool is_lower_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/// Lowercase hex and not all zeros (the spec's invalid id).
bool valid_trace_id(std::string_view id) noexcept {
  bool nonzero = false;
  for (const char c : id) {
    if (!is_lower_hex(c)) return false;
    nonzero |= c != '0';
  }
  return nonzero;
}

int hex_digit_value(char c) noexcept { return c <= '9' ? c - '0' : c - 'a' + 10; }

}  // namespace

TraceContext::TraceContext(std::string_view trace_id, std::string_view span_id, std::uint8_t flags) noexcept {
  if (trace_id.size() != trace_id_.size() || span_id.size() != span_id_.size() || !valid_trace_id(trace_id) ||
      !valid_trace_id(span_id)) {
    return;
  }
  trace_id.copy(trace_id_.data(), trace_id_.size());
  span_id.copy(span_id_.data(), span_id_.size());
  flags_ = flags;
  set_ = true;
}

void TraceContext::write_traceparent(char* out) const noexcept {
  if (!set_) return;
  static constexpr char hex[] = "0123456789abcdef";
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  std::copy(trace_id_.begin(), trace_id_.end(), out + 3);
  out[35] = '-';
  std::copy(span_id_.begin(), span_id_.end(), out + 36);
  out[52] = '-';
  out[53] = hex[flags_ >> 4];
  out[54] = hex[flags_ & 15];
}

std::string TraceContext::traceparent() const {
  if (!set_) return {};
  std::string text(traceparent_length, '0');
  write_traceparent(text.data());
  return text;
}

}  // namespace kernel

namespace kernel::detail {

namespace {

std::uint64_t trace_mix(std::uint64_t z) noexcept {  // splitmix64's finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct TraceSeed {
  std::uint64_t a, b;
};

/// Drawn once per process: ids differ between processes (and between runs) without a
/// syscall per message.
const TraceSeed& trace_seed() noexcept {
  static const TraceSeed value = [] {
    std::random_device device;
    const auto draw = [&] { return (static_cast<std::uint64_t>(device()) << 32) ^ device(); };
    return TraceSeed{trace_mix(draw()), trace_mix(draw())};
  }();
  return value;
}

void write_hex64(std::uint64_t value, char* out) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, value >>= 4) out[i] = hex[value & 15];
}

}  // namespace

std::optional<ParsedTraceparent> parse_traceparent(std::string_view value) noexcept {
  if (value.size() < traceparent_length) return std::nullopt;
  if (!is_lower_hex(value[0]) || !is_lower_hex(value[1])) return std::nullopt;
  const bool version_00 = value[0] == '0' && value[1] == '0';
  if (value[0] == 'f' && value[1] == 'f') return std::nullopt;  // forbidden version
  // Version 00 is exactly 55 characters; a later one may add fields after a '-'.
  if (version_00 ? value.size() != traceparent_length
                 : value.size() > traceparent_length && value[traceparent_length] != '-') {
    return std::nullopt;
  }
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  ParsedTraceparent parsed{value.substr(3, 32), value.substr(36, 16), 0};
  if (!valid_trace_id(parsed.trace_id) || !valid_trace_id(parsed.parent_id)) return std::nullopt;
  if (!is_lower_hex(value[53]) || !is_lower_hex(value[54])) return std::nullopt;
  parsed.flags = static_cast<std::uint8_t>(hex_digit_value(value[53]) * 16 + hex_digit_value(value[54]));
  return parsed;
}

bool acceptable_tracestate(std::string_view value) noexcept {
  if (value.size() > max_tracestate_bytes) return false;
  std::size_t members = 0;
  bool in_member = false;  // a list member has begun since the last comma
  for (const char c : value) {
    if (c < 0x20 || c > 0x7e) return false;
    if (c == ',') {
      in_member = false;
    } else if (c != ' ' && c != '\t' && !in_member) {
      in_member = true;
      if (++members > max_tracestate_members) return false;
    }
  }
  return true;
}

HandlingTrace handling_trace(const Message& input) noexcept {
  HandlingTrace out;
  // The key of this handling: its input's place in the log, with the process's seed.
  const auto& keys = trace_seed();
  std::uint64_t key = keys.a;
  for (const char c : input.topic()) key = (key ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;  // FNV-1a
  key = trace_mix(key ^ static_cast<std::uint32_t>(input.partition()));
  key = trace_mix(key ^ static_cast<std::uint64_t>(input.offset()));
  char span[16];
  write_hex64(key == 0 ? 1 : key, span);

  std::optional<ParsedTraceparent> parsed;
  if (const auto parent = input.header("traceparent"); parent && !parent->empty()) {
    parsed = parse_traceparent(*parent);
    out.malformed = !parsed;
  }
  if (parsed) {
    out.trace = TraceContextAccess::make(parsed->trace_id.data(), span, parsed->flags);
    if (const auto state = input.header("tracestate"); state && !state->empty()) {
      if (acceptable_tracestate(*state)) {
        out.tracestate = *state;
      } else {
        out.malformed = true;
      }
    }
    return out;
  }
  // A new trace, sampled: the services downstream record it as if this kernel had.
  char trace[32];
  const auto high = trace_mix(key ^ keys.b);
  write_hex64(high, trace);
  write_hex64(trace_mix(high ^ keys.a) | (high == 0 ? 1 : 0), trace + 16);  // never all zeros
  out.trace = TraceContextAccess::make(trace, span, 0x01);
  return out;
}

namespace {
thread_local CurrentTrace current_handling;
}  // namespace

const CurrentTrace& current_trace() noexcept { return current_handling; }

HandlingTrace handling_trace_of(const Message& input) noexcept {
  return current_handling.input == &input ? current_handling.handling : handling_trace(input);
}

TraceScope::TraceScope(const Message& input) noexcept {
  if (current_handling.input == &input) return;  // the loop set it for this input already
  saved_ = current_handling;
  owns_ = true;
  current_handling.handling = handling_trace(input);
  current_handling.input = &input;
}

TraceScope::~TraceScope() {
  if (owns_) current_handling = saved_;
}

}  // namespace kernel::detail
