#pragma once
// The standard headers every produced message carries (event-id, correlation-id,
// causation-id, source, timestamp, content-type, and the optional ones), written into a
// librdkafka header list without building intermediate strings.
#include <array>
#include <cstdint>
#include <random>
#include <string_view>

#include <librdkafka/rdkafka.h>

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

/// RFC 3339 UTC with milliseconds, cached per millisecond.
class TimestampFormatter {
 public:
  /// 24 characters: 2026-11-23T03:09:38.123Z
  std::string_view now() noexcept;
  static void format(std::int64_t epoch_ms, char* out) noexcept;

 private:
  std::int64_t cached_ms_ = -1;
  std::array<char, 24> text_{};
};

class HeaderStamper {
 public:
  explicit HeaderStamper(std::string_view source) : source_(source) {}
  /// A new header list (owned by the caller) with the standard headers for `output`,
  /// produced while handling `input` on attempt `attempt`.
  rd_kafka_headers_t* stamp(const Outgoing& output, const Message* input, int attempt);

 private:
  std::string_view source_;
  UuidGenerator uuids_;
  TimestampFormatter clock_;
};

}  // namespace kernel::detail
