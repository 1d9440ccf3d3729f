#pragma once
// The one UTF-8 decoder of the runtime: JSON Lines asks whether bytes are text, and text shown
// on a terminal escapes what does not decode.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kernel::detail {

/// One decoded character: its code point and how many bytes it took.
struct Utf8Character {
  std::uint32_t code_point = 0;
  std::size_t length = 0;
};

/// The character that starts at `at` (before text.size()), or nullopt when the bytes there are
/// not well-formed UTF-8: a stray continuation byte, a sequence cut short, an overlong form, a
/// surrogate, or a code point past U+10FFFF.
inline std::optional<Utf8Character> decode_utf8(std::string_view text, std::size_t at) noexcept {
  const auto first = static_cast<unsigned char>(text[at]);
  if (first < 0x80) return Utf8Character{first, 1};
  std::size_t length = 0;
  std::uint32_t code_point = 0;
  if ((first & 0xe0) == 0xc0) {
    length = 2, code_point = first & 0x1fu;
  } else if ((first & 0xf0) == 0xe0) {
    length = 3, code_point = first & 0x0fu;
  } else if ((first & 0xf8) == 0xf0) {
    length = 4, code_point = first & 0x07u;
  } else {
    return std::nullopt;
  }
  if (at + length > text.size()) return std::nullopt;
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[at + i]);
    if ((next & 0xc0) != 0x80) return std::nullopt;
    code_point = (code_point << 6) | (next & 0x3fu);
  }
  const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};  // below it, an overlong form
  if (code_point < smallest[length] || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff)) {
    return std::nullopt;
  }
  return Utf8Character{code_point, length};
}

}  // namespace kernel::detail
