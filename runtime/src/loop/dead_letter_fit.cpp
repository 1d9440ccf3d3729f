#include "loop/dead_letter_fit.hpp"

#include <algorithm>
#include <numeric>

#include <nlohmann/json.hpp>

namespace kernel::detail {

namespace {

/// Original headers this large go before the value is cut.
constexpr std::size_t large_header = 1024;
/// Removed headers listed by name in dlq-removed-headers; the rest are counted.
constexpr std::size_t listed_removals = 32;
/// A listed name longer than this is cut (a name can be anything).
constexpr std::size_t listed_name = 256;

std::size_t marker_bytes(std::string_view name, std::size_t value_size) {
  return name.size() + value_size + header_overhead;
}

/// dlq-removed-headers' value, and an upper bound of its size while it grows: a listed name
/// costs at most 6 bytes a byte escaped (\u00XX) plus its framing.
class RemovedHeaders {
 public:
  void add(std::string_view name, std::size_t size) {
    if (listed_.size() < listed_removals) {
      name = name.substr(0, listed_name);
      listed_.emplace_back(name, size);
      bound_ += name.size() * 6 + 32;
    } else {
      add_unlisted(1, size);
    }
  }
  void add_unlisted(std::size_t count, std::size_t bytes) {
    if (count == 0) return;
    if (rest_count_ == 0) bound_ += 48;
    rest_count_ += count;
    rest_bytes_ += bytes;
  }
  bool empty() const noexcept { return listed_.empty(); }
  std::size_t size_bound() const noexcept { return bound_ + 2; }
  std::string text() const {
    auto list = nlohmann::json::array();
    for (const auto& [name, size] : listed_) list.push_back({std::string(name), size});
    if (rest_count_ > 0) list.push_back({"...", rest_count_, rest_bytes_});
    // Header names are bytes: a name that is not UTF-8 is shown with replacement characters.
    return list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

 private:
  std::vector<std::pair<std::string_view, std::size_t>> listed_;
  std::size_t rest_count_ = 0;
  std::size_t rest_bytes_ = 0;
  std::size_t bound_ = 0;
};

/// Indexes of `headers`, the largest value first (ties in their order): the order headers go in.
std::vector<std::size_t> largest_first(const std::vector<std::pair<std::string_view, std::size_t>>& headers) {
  std::vector<std::size_t> order(headers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return headers[a].second > headers[b].second; });
  return order;
}

}  // namespace

DeadLetterCuts fit_dead_letter(const DeadLetterSizes& sizes, std::size_t max_bytes) {
  DeadLetterCuts cuts;
  cuts.value_size = sizes.value;
  cuts.key_size = sizes.key;
  cuts.removed.assign(sizes.headers.size(), false);
  const std::size_t limit = max_bytes > record_overhead ? max_bytes - record_overhead : 0;
  std::size_t header_bytes = 0;
  for (const auto& [name, size] : sizes.headers) header_bytes += name.size() + size + header_overhead;
  std::size_t markers = 0;  // the dlq-* headers that record the cuts (their removal list at its bound)
  auto used = [&] { return sizes.dlq_header_bytes + header_bytes + markers + cuts.key_size + cuts.value_size; };
  if (used() <= limit) return cuts;

  // The original headers in the order they go: the largest first.
  const auto order = largest_first(sizes.headers);
  RemovedHeaders removed;
  std::size_t next = 0;  // into order: everything before it is removed
  auto remove_headers_while = [&](auto&& wanted) {
    for (; next < order.size() && used() > limit && wanted(order[next]); ++next) {
      const auto index = order[next];
      const auto& [name, size] = sizes.headers[index];
      header_bytes -= name.size() + size + header_overhead;
      if (!removed.empty()) markers -= marker_bytes("dlq-removed-headers", removed.size_bound());
      removed.add(name, size);
      markers += marker_bytes("dlq-removed-headers", removed.size_bound());
      cuts.removed[index] = true;
      ++cuts.removed_count;
    }
  };
  auto finish = [&] {
    if (!removed.empty()) cuts.removed_headers = removed.text();
    return cuts;
  };

  // 1. Large original headers (an attachment, a blob): the value says more than they do.
  remove_headers_while([&](std::size_t index) { return sizes.headers[index].second >= large_header; });
  if (used() <= limit) return finish();

  // Cuts the value or the key to what fits beside the rest, recording its original size.
  auto cut = [&](std::size_t original, std::size_t& kept, std::optional<std::string>& marker, std::string_view name) {
    if (original == 0 || used() <= limit) return;
    marker = std::to_string(original);
    markers += marker_bytes(name, marker->size());
    kept = 0;
    kept = used() < limit ? std::min(original, limit - used()) : 0;
  };
  auto cut_value = [&] { cut(sizes.value, cuts.value_size, cuts.truncated, "dlq-truncated"); };
  auto cut_key = [&] { cut(sizes.key, cuts.key_size, cuts.key_truncated, "dlq-key-truncated"); };

  // 2. The larger of the value and the key (a huge key next to a small value loses its tail,
  // not the value).
  const bool key_first = sizes.key > sizes.value;
  key_first ? cut_key() : cut_value();
  if (used() <= limit) return finish();

  // 3. The rest of the original headers, the largest first.
  remove_headers_while([](std::size_t) { return true; });
  if (used() <= limit) return finish();

  // 4. The other of the value and the key.
  key_first ? cut_value() : cut_key();
  return finish();
}

std::vector<std::size_t> headers_to_halve(const std::vector<std::pair<std::string_view, std::size_t>>& headers) {
  const auto order = largest_first(headers);
  auto bytes_of = [&](std::size_t index) {
    return headers[index].first.size() + headers[index].second + header_overhead;
  };
  std::size_t total = 0;
  for (std::size_t i = 0; i < headers.size(); ++i) total += bytes_of(i);
  std::vector<std::size_t> removed;
  std::size_t removed_bytes = 0;
  for (const auto index : order) {
    if (!removed.empty() && removed_bytes * 2 >= total) break;
    removed.push_back(index);
    removed_bytes += bytes_of(index);
  }
  return removed;
}

std::string merge_removed_headers(std::string_view earlier,
                                  const std::vector<std::pair<std::string_view, std::size_t>>& more) {
  RemovedHeaders removed;
  // Entries ["name", size], and a last ["...", count, bytes]; anything else (not ours) is left out.
  const auto list = nlohmann::json::parse(earlier, nullptr, false);
  if (list.is_array()) {
    for (const auto& entry : list) {
      if (!entry.is_array() || entry.empty() || !entry[0].is_string()) continue;
      const auto& name = entry[0].get_ref<const std::string&>();
      if (entry.size() == 2 && entry[1].is_number_unsigned()) {
        removed.add(name, entry[1].get<std::size_t>());
      } else if (entry.size() == 3 && name == "..." && entry[1].is_number_unsigned() && entry[2].is_number_unsigned()) {
        removed.add_unlisted(entry[1].get<std::size_t>(), entry[2].get<std::size_t>());
      }
    }
  }
  for (const auto& [name, size] : more) removed.add(name, size);
  return removed.text();
}

}  // namespace kernel::detail
