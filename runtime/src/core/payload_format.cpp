#include "core/payload_format.hpp"

#include <algorithm>
#include <cctype>

namespace kernel::detail {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trimmed(std::string_view text) noexcept {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

PayloadFormat payload_format(std::optional<std::string_view> content_type) noexcept {
  if (!content_type) return PayloadFormat::json;
  const auto media_type = trimmed(content_type->substr(0, content_type->find(';')));
  if (equals_ignoring_case(media_type, "application/json")) return PayloadFormat::json;
  if (equals_ignoring_case(media_type, "application/msgpack") ||
      equals_ignoring_case(media_type, "application/x-msgpack")) {
    return PayloadFormat::msgpack;
  }
  return PayloadFormat::other;
}

}  // namespace kernel::detail
