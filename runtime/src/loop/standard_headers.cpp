#include "loop/standard_headers.hpp"

#include <chrono>
#include <cstdio>
#include <random>

#include <librdkafka/rdkafka.h>

#include "core/trace_context.hpp"
#include "loop/retry_topics.hpp"

namespace kernel::detail {

namespace {
std::uint64_t splitmix(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void add(rd_kafka_headers_t* headers, const char* name, std::string_view value) {
  if (value.empty()) return;  // an empty header is never sent
  rd_kafka_header_add(headers, name, -1, value.data(), static_cast<ssize_t>(value.size()));
}
}  // namespace

bool is_trace_header(std::string_view header_name) noexcept {
  return header_name == "traceparent" || header_name == "tracestate";
}

void add_trace_headers(rd_kafka_headers_t* headers, const Message& input) {
  const auto handling = handling_trace_of(input);
  char parent[traceparent_length];
  handling.trace.write_traceparent(parent);
  add(headers, "traceparent", std::string_view(parent, sizeof parent));
  add(headers, "tracestate", handling.tracestate);
}

UuidGenerator::UuidGenerator() {
  std::random_device device;
  std::uint64_t seed = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  state_[0] = splitmix(seed);
  state_[1] = splitmix(seed);
}

void UuidGenerator::next(char* out) noexcept {
  // xorshift128+: two 64-bit words per id.
  auto step = [this]() {
    std::uint64_t s1 = state_[0];
    const std::uint64_t s0 = state_[1];
    state_[0] = s0;
    s1 ^= s1 << 23;
    state_[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return state_[1] + s0;
  };
  std::uint64_t hi = step(), lo = step();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  static constexpr char hex[] = "0123456789abcdef";
  int pos = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[pos++] = '-';
    const auto byte = static_cast<unsigned>(((i < 8 ? hi : lo) >> (8 * (7 - (i % 8)))) & 0xff);
    out[pos++] = hex[byte >> 4];
    out[pos++] = hex[byte & 15];
  }
}

std::string_view TimestampFormatter::now() noexcept {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  if (ms != cached_ms_) {
    format_rfc3339(ms, text_.data());
    cached_ms_ = ms;
  }
  return {text_.data(), text_.size()};
}

HeadersPtr HeaderStamper::stamp(const Outgoing& output, const Message* input, int attempt) {
  HeadersPtr owned(rd_kafka_headers_new(12 + output.headers().size()));  // room for all: no regrowth
  auto* headers = owned.get();
  char event_id[36];
  uuids_.next(event_id);
  const std::string_view event_id_text(event_id, sizeof event_id);
  add(headers, "event-id", event_id_text);

  std::string_view correlation = output.correlation_id();
  std::string_view conversation = output.conversation_id();
  if (input) {
    if (correlation.empty()) correlation = input->header("correlation-id").value_or("");
    if (conversation.empty()) conversation = input->header("conversation-id").value_or("");
    add(headers, "causation-id", input->header("event-id").value_or(""));
  }
  add(headers, "correlation-id", correlation.empty() ? event_id_text : correlation);
  add(headers, "source", source_);
  add(headers, "timestamp", clock_.now());
  add(headers, "content-type", content_type_header(output.content_type()));
  add(headers, "event-type", output.event_type());
  add(headers, "conversation-id", conversation);
  add(headers, "schema-version", output.schema_version());
  if (attempt > 1) {
    char retries[16];
    const int n = std::snprintf(retries, sizeof retries, "%d", attempt - 1);
    add(headers, "retry-count", std::string_view(retries, static_cast<std::size_t>(n)));
  }
  // A traceparent the handler set itself (from its own tracing) wins; one copied from the
  // input is replaced by this handling's.
  const auto own_parent = output.headers().get("traceparent");
  const bool own_trace = own_parent && !own_parent->empty() && (!input || input->header("traceparent") != own_parent);
  for (const auto& [name, value] : output.headers()) {
    if (is_retry_bookkeeping(name)) continue;  // copied from an input: stays on retry topics
    if (!own_trace && is_trace_header(name)) continue;
    add(headers, name.c_str(), value);
  }
  if (input && !own_trace) add_trace_headers(headers, *input);
  return owned;
}

}  // namespace kernel::detail
