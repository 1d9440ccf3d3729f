#pragma once
// Non-blocking retry topics (KERNEL_RETRY_TOPICS): the bookkeeping headers a retry record
// carries and the rules for reading them. The loop's part is in retry_topics.cpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kernel/message.hpp"

namespace kernel::detail {

/// Headers a retry record adds to the original's (RFC 3339 with milliseconds for times).
namespace retry_header {
inline constexpr std::string_view original_topic = "retry-original-topic";
inline constexpr std::string_view original_partition = "retry-original-partition";
inline constexpr std::string_view original_offset = "retry-original-offset";
inline constexpr std::string_view original_timestamp = "retry-original-timestamp";
inline constexpr std::string_view first_failed_at = "retry-first-failed-at";
inline constexpr std::string_view first_error = "retry-first-error";
inline constexpr std::string_view attempt = "retry-attempt";
inline constexpr std::string_view due_at = "retry-due-at";
}  // namespace retry_header

/// A retry topic's bookkeeping header: every `retry-*` name but `retry-count`, which is a
/// standard header. These never leave the retry topics: outputs and dead letters drop them.
bool is_retry_bookkeeping(std::string_view header_name) noexcept;

/// `2026-11-23T03:09:38.123Z` as epoch milliseconds; nullopt for anything else.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text) noexcept;

/// Where a message first came from: the `retry-original-*` headers of a retry record, else
/// the message's own coordinates. Texts as the `dlq-original-*` headers write them.
struct RetryOrigin {
  std::string topic, partition, offset, timestamp;
};
RetryOrigin retry_origin_of(const Message& message);

}  // namespace kernel::detail
