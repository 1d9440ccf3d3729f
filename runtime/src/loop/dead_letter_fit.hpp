#pragma once
// A dead letter must always be writable: when the input's key, headers and value do not fit
// the producer's message.max.bytes beside the dlq-* headers, something of the original is cut,
// and each cut is recorded in a dlq-* header (docs/failure-handling.md). The order: the value
// first (dlq-truncated), then the original headers, the largest first (dlq-removed-headers),
// then the key (dlq-key-truncated). Pure: the loop builds the record from the answer.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kernel::detail {

/// What librdkafka counts for a header against message.max.bytes: name, value and their lengths.
inline constexpr std::size_t header_overhead = 10;
/// Room left for the record's own framing beyond key, value and headers.
inline constexpr std::size_t record_overhead = 256;

struct DeadLetterSizes {
  std::size_t key = 0;
  std::size_t value = 0;
  /// The original headers kept in a dead letter: (name, value size), in their order.
  std::vector<std::pair<std::string_view, std::size_t>> headers;
  /// The dlq-* headers the loop adds, framing included.
  std::size_t dlq_header_bytes = 0;
};

struct DeadLetterCuts {
  std::size_t value_size = 0;            ///< bytes of the value kept
  std::size_t key_size = 0;              ///< bytes of the key kept
  std::vector<std::size_t> removed;      ///< indexes into DeadLetterSizes::headers, largest first
  std::optional<std::string> truncated;  ///< dlq-truncated: the value's size, when cut
  std::optional<std::string> key_truncated;    ///< dlq-key-truncated: the key's size, when cut
  std::optional<std::string> removed_headers;  ///< dlq-removed-headers: [["name", size], ...]
};

/// How much of each part fits in `max_bytes` (the producer's message.max.bytes).
DeadLetterCuts fit_dead_letter(const DeadLetterSizes& sizes, std::size_t max_bytes);

/// dlq-removed-headers' value: a JSON array of [name, size] pairs, in removal order.
std::string removed_headers_text(const std::vector<std::pair<std::string_view, std::size_t>>& removed);

}  // namespace kernel::detail
