#pragma once
// The one way text from outside (configuration values, record keys and headers) is shown to a
// person: on one line, and unable to move the cursor, recolour or clear the terminal it is
// printed on. Machine-readable output (JSON) keeps the bytes instead.
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

namespace kernel::detail {

/// Whether `"` is escaped too: for text shown between quotes.
enum class Quotes { kept, escaped };

/// `text` with every character a terminal would act on written as an escape: `\n`, `\r`,
/// `\t`, `\0`, `\xHH` for the other control bytes (ESC is `\x1b`) and for each byte that is
/// not UTF-8, `\uHHHH` for the C1 controls (U+0080-U+009F) and the marks that reorder text
/// (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069); `\` itself is `\\`, so every
/// escape reads one way. Past `max_characters` characters (code points, each stray byte
/// counting one) the rest is cut and `...` added.
std::string printable_text(std::string_view text, Quotes quotes = Quotes::kept,
                           std::size_t max_characters = std::numeric_limits<std::size_t>::max());

}  // namespace kernel::detail
