#include "kernel/headers.hpp"

#include <algorithm>

namespace kernel {

std::optional<std::string_view> Headers::get(std::string_view name) const noexcept {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->first == name) return std::string_view(it->second);
  }
  return std::nullopt;
}

bool Headers::is_null(std::size_t index) const noexcept {
  return std::find(null_values_.begin(), null_values_.end(), index) != null_values_.end();
}

}  // namespace kernel
