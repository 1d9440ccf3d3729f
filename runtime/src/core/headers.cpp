#include "kernel/headers.hpp"

#include <algorithm>

namespace kernel {

std::optional<std::string_view> Headers::get(std::string_view name) const noexcept {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->first == name) return std::string_view(it->second);
  }
  return std::nullopt;
}

std::size_t Headers::erase(std::string_view name) {
  std::vector<Entry> kept;
  std::vector<std::size_t> kept_nulls;
  std::size_t erased = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].first == name) {
      ++erased;
      continue;
    }
    if (is_null(i)) kept_nulls.push_back(kept.size());
    kept.push_back(std::move(entries_[i]));
  }
  entries_ = std::move(kept);
  null_values_ = std::move(kept_nulls);
  return erased;
}

bool Headers::is_null(std::size_t index) const noexcept {
  return std::find(null_values_.begin(), null_values_.end(), index) != null_values_.end();
}

}  // namespace kernel
