#pragma once
// A dead letter must always be writable: when the input's key, headers and value do not fit
// the producer's message.max.bytes beside the dlq-* headers, something of the original is cut,
// and each cut is recorded in a dlq-* header (docs/failure-handling.md). The order: original
// headers of 1 KiB or more, the largest first (dlq-removed-headers); then the larger of the
// value (dlq-truncated) and the key (dlq-key-truncated); then the other original headers; then
// the smaller of value and key. Pure: the loop builds the record from the answer.
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
  std::size_t value_size = 0;  ///< bytes of the value kept
  std::size_t key_size = 0;    ///< bytes of the key kept
  std::vector<bool> removed;   ///< per DeadLetterSizes::headers entry: removed
  std::size_t removed_count = 0;
  std::optional<std::string> truncated;      ///< dlq-truncated: the value's size, when cut
  std::optional<std::string> key_truncated;  ///< dlq-key-truncated: the key's size, when cut
  /// dlq-removed-headers: [["name", size], ...], the largest first; past the first 32, one
  /// last ["...", count, bytes] for the rest (a record can carry many thousands of headers).
  std::optional<std::string> removed_headers;
};

/// How much of each part fits in `max_bytes` (the producer's message.max.bytes).
DeadLetterCuts fit_dead_letter(const DeadLetterSizes& sizes, std::size_t max_bytes);

/// A dead letter the broker refused as too large once its value is gone (a topic's
/// max.message.bytes below ours): the original headers to remove, the largest first, until
/// at least half of their bytes are gone (indexes into `headers`).
std::vector<std::size_t> headers_to_halve(const std::vector<std::pair<std::string_view, std::size_t>>& headers);

/// dlq-removed-headers of a dead letter cut again: the earlier list (its text), then `more`,
/// within the same bound of listed names.
std::string merge_removed_headers(std::string_view earlier,
                                  const std::vector<std::pair<std::string_view, std::size_t>>& more);

}  // namespace kernel::detail
