#include <doctest/doctest.h>

#include <string>

#include "core/printable_text.hpp"

namespace printable_text_test {

using kernel::detail::printable_text;
using kernel::detail::Quotes;

TEST_CASE("printable text: control characters become escapes, one line") {
  const std::string hostile("line\nnext\rtab\tnul\0esc\x1b[2Jbell\007del\x7f", 34);
  CHECK(printable_text(hostile) == "line\\nnext\\rtab\\tnul\\0esc\\x1b[2Jbell\\x07del\\x7f");
}

TEST_CASE("printable text: a backslash is escaped, so an escape reads one way") {
  CHECK(printable_text("C:\\n") == "C:\\\\n");
  CHECK(printable_text("\n") == "\\n");
}

TEST_CASE("printable text: quotes are escaped only for text shown between quotes") {
  CHECK(printable_text(R"(field "qty")") == R"(field "qty")");
  CHECK(printable_text(R"(field "qty")", Quotes::escaped) == R"(field \"qty\")");
}

TEST_CASE("printable text: UTF-8 text is kept, bytes that are not UTF-8 are shown as bytes") {
  CHECK(printable_text("café ✓ 😀") == "café ✓ 😀");
  CHECK(printable_text("\xff\xfe ok \xc3\x28") == "\\xff\\xfe ok \\xc3(");
  CHECK(printable_text("\xe2\x82") == "\\xe2\\x82");  // cut short
  CHECK(printable_text("\xc0\xaf") == "\\xc0\\xaf");  // overlong '/'
}

TEST_CASE("printable text: C1 controls and marks that reorder text are escaped") {
  CHECK(printable_text("a\302\23331mb") == "a\\u009b31mb");  // U+009B (octal: a hex escape would take the 3)
  CHECK(printable_text("evil\342\200\256cod.exe") == "evil\\u202ecod.exe");  // U+202E, right-to-left override
  CHECK(printable_text("\xe2\x81\xa6x\xe2\x81\xa9") == "\\u2066x\\u2069");
}

TEST_CASE("printable text: cut after max characters, counted as characters, with ...") {
  CHECK(printable_text("abcdef", Quotes::kept, 3) == "abc...");
  CHECK(printable_text("abc", Quotes::kept, 3) == "abc");
  CHECK(printable_text("ééé", Quotes::kept, 2) == "éé...");
  CHECK(printable_text("\n\n\n", Quotes::kept, 2) == "\\n\\n...");
}

}  // namespace printable_text_test
