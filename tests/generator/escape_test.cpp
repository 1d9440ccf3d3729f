// Values are escaped for the language of the file they land in.
#include <doctest/doctest.h>

#include <stdexcept>

#include "escape.hpp"

namespace escape_test {

using namespace new_kernel;

namespace {
const std::string nasty = "say \"hi\"; $HOME ${X} \\ `x` *b* _i_ <b> # | @V@ \t";
}

TEST_CASE("C++ string literals") {
  CHECK(escape_cpp_string(nasty) == "say \\\"hi\\\"; $HOME ${X} \\\\ `x` *b* _i_ <b> # | @V@ \\t");
  CHECK(escape_cpp_string(std::string("a\x01"
                                      "1")) == "a\\0011");
  CHECK(escape_cpp_string("café") == "café");
}

TEST_CASE("CMake quoted arguments") {
  CHECK(escape_cmake_string(nasty) == "say \\\"hi\\\"\\; \\$HOME \\${X} \\\\ `x` *b* _i_ <b> # | \\@V\\@ \\t");
}

TEST_CASE("YAML double-quoted scalars") {
  CHECK(escape_yaml_string(nasty) == "say \\\"hi\\\"; $HOME ${X} \\\\ `x` *b* _i_ <b> # | @V@ \\t");
  CHECK(escape_yaml_string(std::string("a\x01")) == "a\\x01");
}

TEST_CASE("JSON strings") {
  CHECK(escape_json_string(nasty) == "say \\\"hi\\\"; $HOME ${X} \\\\ `x` *b* _i_ <b> # | @V@ \\t");
  CHECK(escape_json_string("\xff") == "\xef\xbf\xbd");  // replaced, never thrown
}

TEST_CASE("Markdown text") {
  CHECK(escape_markdown(nasty) == "say \"hi\"; $HOME ${X} \\\\ \\`x\\` \\*b\\* \\_i\\_ \\<b\\> \\# \\| @V@ \t");
  CHECK(escape_markdown("a & b") == "a &amp; b");
}

TEST_CASE("languages by name") {
  for (const auto language :
       {Language::plain, Language::cpp, Language::cmake, Language::yaml, Language::json, Language::markdown}) {
    CHECK(language_from_name(name_of(language)) == language);
  }
  CHECK_THROWS_AS(language_from_name("cobol"), std::invalid_argument);
}

}  // namespace escape_test
