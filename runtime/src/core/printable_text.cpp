#include "core/printable_text.hpp"

#include <cstdint>

#include "core/utf8.hpp"

namespace kernel::detail {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string& out, std::uint32_t value, int digits) {
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += hex_digits[(value >> shift) & 0xf];
}

/// Characters that change how what follows is shown: C1 controls (some terminals take U+009B
/// as CSI) and the bidirectional marks and overrides that reorder a line.
bool acts_on_terminal(std::uint32_t code_point) {
  return (code_point >= 0x80 && code_point <= 0x9f) || code_point == 0x061c || code_point == 0x200e ||
         code_point == 0x200f || (code_point >= 0x202a && code_point <= 0x202e) ||
         (code_point >= 0x2066 && code_point <= 0x2069);
}

}  // namespace

std::string printable_text(std::string_view text, Quotes quotes, std::size_t max_characters) {
  std::string out;
  out.reserve(text.size());
  std::size_t shown = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (shown++ == max_characters) {
      out += "...";
      break;
    }
    const auto character = decode_utf8(text, i);
    if (!character) {  // a byte that is not UTF-8: shown as that byte
      out += "\\x";
      append_hex(out, static_cast<unsigned char>(text[i]), 2);
      ++i;
      continue;
    }
    const auto c = character->code_point;
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\0': out += "\\0"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += quotes == Quotes::escaped ? "\\\"" : "\""; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          append_hex(out, c, 2);
        } else if (acts_on_terminal(c)) {
          out += "\\u";
          append_hex(out, c, 4);
        } else {
          out.append(text.substr(i, character->length));
        }
    }
    i += character->length;
  }
  return out;
}

}  // namespace kernel::detail
