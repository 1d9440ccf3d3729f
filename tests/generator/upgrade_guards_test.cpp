#include <doctest/doctest.h>

#include "text_merge.hpp"
#include "upgrade_guards.hpp"

namespace new_kernel {

TEST_CASE("template versions compare numerically, part by part") {
  CHECK(compare_versions("1.10.0", "1.9.0") == 1);
  CHECK(compare_versions("1.8.0", "1.8.0") == 0);
  CHECK(compare_versions("1.8.0-rc1", "1.8.0") == 0);
  CHECK(compare_versions("0.9.9", "1.0.0") == -1);
  CHECK_FALSE(compare_versions("1.8", "1.8.0").has_value());
  CHECK_FALSE(compare_versions("one", "1.8.0").has_value());
  CHECK_FALSE(compare_versions("1.8.0x", "1.8.0").has_value());
}

TEST_CASE("CRLF is recognised only when every line ends with it, and converts both ways") {
  CHECK(uses_crlf("a\r\nb\r\n"));
  CHECK_FALSE(uses_crlf("a\r\nb\n"));
  CHECK_FALSE(uses_crlf("no line end"));
  CHECK(crlf_to_lf("a\r\nb\r\n") == "a\nb\n");
  CHECK(lf_to_crlf("a\nb\n") == "a\r\nb\r\n");
  CHECK(lf_to_crlf("a\r\nb\n") == "a\r\nb\r\n");
}

TEST_CASE("a diff names the modes git would") {
  const auto created = unified_diff(std::nullopt, std::string("x\n"), "run.sh", "run.sh", 0, 0755);
  CHECK(created.find("new file mode 100755") != std::string::npos);
  const auto mode_only = unified_diff(std::string("x\n"), std::string("x\n"), "run.sh", "run.sh", 0644, 0755);
  CHECK(mode_only.find("old mode 100644\nnew mode 100755\n") != std::string::npos);
}

}  // namespace new_kernel
