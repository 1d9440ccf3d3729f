#include "loop/dead_letter_fit.hpp"

#include <algorithm>
#include <numeric>

#include <nlohmann/json.hpp>

namespace kernel::detail {

namespace {

/// Original headers this large go before the value is cut.
constexpr std::size_t large_header = 1024;

std::size_t marker_bytes(std::string_view name, const std::string& value) {
  return name.size() + value.size() + header_overhead;
}

}  // namespace

std::string removed_headers_text(const std::vector<std::pair<std::string_view, std::size_t>>& removed) {
  auto list = nlohmann::json::array();
  for (const auto& [name, size] : removed) list.push_back({std::string(name), size});
  // Header names are bytes: a name that is not UTF-8 is shown with replacement characters.
  return list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

DeadLetterCuts fit_dead_letter(const DeadLetterSizes& sizes, std::size_t max_bytes) {
  DeadLetterCuts cuts;
  cuts.value_size = sizes.value;
  cuts.key_size = sizes.key;
  const std::size_t limit = max_bytes > record_overhead ? max_bytes - record_overhead : 0;
  std::size_t header_bytes = 0;
  for (const auto& [name, size] : sizes.headers) header_bytes += name.size() + size + header_overhead;
  std::size_t markers = 0;  // the dlq-* headers that record the cuts
  auto used = [&] { return sizes.dlq_header_bytes + header_bytes + markers + cuts.key_size + cuts.value_size; };
  if (used() <= limit) return cuts;

  // The original headers in the order they go: the largest first.
  std::vector<std::size_t> order(sizes.headers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return sizes.headers[a].second > sizes.headers[b].second; });
  std::vector<std::pair<std::string_view, std::size_t>> removed;
  auto remove_headers_while = [&](auto&& wanted) {
    for (const auto index : order) {
      if (used() <= limit || !wanted(index)) break;
      if (std::find(cuts.removed.begin(), cuts.removed.end(), index) != cuts.removed.end()) continue;
      const auto& [name, size] = sizes.headers[index];
      header_bytes -= name.size() + size + header_overhead;
      if (cuts.removed_headers) markers -= marker_bytes("dlq-removed-headers", *cuts.removed_headers);
      cuts.removed.push_back(index);
      removed.emplace_back(name, size);
      cuts.removed_headers = removed_headers_text(removed);
      markers += marker_bytes("dlq-removed-headers", *cuts.removed_headers);
    }
  };

  // 1. Large original headers (an attachment, a blob): the value says more than they do.
  remove_headers_while([&](std::size_t index) { return sizes.headers[index].second >= large_header; });
  if (used() <= limit) return cuts;

  // 2. The value.
  if (sizes.value > 0) {
    cuts.truncated = std::to_string(sizes.value);
    markers += marker_bytes("dlq-truncated", *cuts.truncated);
    cuts.value_size = 0;
    cuts.value_size = used() < limit ? std::min(sizes.value, limit - used()) : 0;
    if (used() <= limit) return cuts;
  }

  // The rest of the original headers, the largest first.
  remove_headers_while([](std::size_t) { return true; });
  if (used() <= limit) return cuts;

  // 3. The key.
  cuts.key_truncated = std::to_string(sizes.key);
  markers += marker_bytes("dlq-key-truncated", *cuts.key_truncated);
  cuts.key_size = 0;
  cuts.key_size = used() < limit ? std::min(sizes.key, limit - used()) : 0;
  return cuts;
}

}  // namespace kernel::detail
