// fit_dead_letter(): what of an input is cut so its dead letter fits message.max.bytes.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loop/dead_letter_fit.hpp"

namespace dead_letter_fit_test {

using kernel::detail::DeadLetterSizes;
using kernel::detail::fit_dead_letter;
using kernel::detail::header_overhead;
using kernel::detail::record_overhead;

namespace {

std::size_t size_of(const DeadLetterSizes& sizes, const kernel::detail::DeadLetterCuts& cuts) {
  std::size_t total = record_overhead + sizes.dlq_header_bytes + cuts.key_size + cuts.value_size;
  for (std::size_t i = 0; i < sizes.headers.size(); ++i) {
    if (cuts.removed[i]) continue;
    total += sizes.headers[i].first.size() + sizes.headers[i].second + header_overhead;
  }
  for (const auto& [name, value] :
       {std::pair{"dlq-truncated", cuts.truncated}, std::pair{"dlq-removed-headers", cuts.removed_headers},
        std::pair{"dlq-key-truncated", cuts.key_truncated}}) {
    if (value) total += std::string_view(name).size() + value->size() + header_overhead;
  }
  return total;
}

}  // namespace

TEST_CASE("a dead letter that fits is not cut") {
  const DeadLetterSizes sizes{.key = 10, .value = 1000, .headers = {{"h", 10}}, .dlq_header_bytes = 500};
  const auto cuts = fit_dead_letter(sizes, 1'000'000);
  CHECK(cuts.value_size == 1000);
  CHECK(cuts.key_size == 10);
  CHECK(cuts.removed_count == 0);
  CHECK(!cuts.truncated);
  CHECK(!cuts.removed_headers);
  CHECK(!cuts.key_truncated);
}

TEST_CASE("the value is cut first, to what fits") {
  const DeadLetterSizes sizes{.key = 10, .value = 2'000'000, .headers = {{"h", 10}}, .dlq_header_bytes = 500};
  const auto cuts = fit_dead_letter(sizes, 1'000'000);
  CHECK(cuts.truncated == "2000000");
  CHECK(cuts.value_size > 990'000);
  CHECK(cuts.removed_count == 0);
  CHECK(size_of(sizes, cuts) <= 1'000'000);
}

TEST_CASE("a large original header goes before the value is cut, recorded with its size") {
  const DeadLetterSizes sizes{
      .key = 3, .value = 8, .headers = {{"small", 5}, {"blob", 999'600}, {"mid", 2000}}, .dlq_header_bytes = 500};
  const auto cuts = fit_dead_letter(sizes, 1'000'000);
  CHECK(cuts.removed == std::vector<bool>{false, true, false});  // the largest is enough
  CHECK(cuts.removed_headers == R"([["blob",999600]])");
  CHECK(cuts.value_size == 8);
  CHECK(!cuts.truncated);
  CHECK(cuts.key_size == 3);
  CHECK(size_of(sizes, cuts) <= 1'000'000);
}

TEST_CASE("large headers go largest first, then the value is cut; small headers stay") {
  const DeadLetterSizes sizes{.key = 3,
                              .value = 1'500'000,
                              .headers = {{"trace", 55}, {"a", 400'000}, {"b", 300'000}},
                              .dlq_header_bytes = 500};
  const auto cuts = fit_dead_letter(sizes, 1'000'000);
  CHECK(cuts.removed == std::vector<bool>{false, true, true});
  CHECK(cuts.removed_headers == R"([["a",400000],["b",300000]])");
  CHECK(cuts.truncated == "1500000");
  CHECK(cuts.value_size > 998'000);  // all the room the large headers left
  CHECK(size_of(sizes, cuts) <= 1'000'000);
}

TEST_CASE("a key larger than the value is cut before it, and the value and small headers stay") {
  const DeadLetterSizes sizes{.key = 1'000'500, .value = 7, .headers = {{"h", 100}}, .dlq_header_bytes = 500};
  const auto cuts = fit_dead_letter(sizes, 1'000'000);
  CHECK(cuts.key_truncated == "1000500");
  CHECK(cuts.key_size > 990'000);
  CHECK(cuts.key_size < 1'000'000);
  CHECK(cuts.removed == std::vector<bool>{false});
  CHECK(cuts.value_size == 7);
  CHECK(!cuts.truncated);
  CHECK(size_of(sizes, cuts) <= 1'000'000);
}

TEST_CASE("whatever the sizes, the answer fits (when the dlq-* headers themselves do)") {
  for (std::size_t key : {0u, 1u, 500'000u, 2'000'000u}) {
    for (std::size_t value : {0u, 1u, 999'999u, 3'000'000u}) {
      for (std::size_t header : {0u, 400'000u, 999'000u}) {
        const DeadLetterSizes sizes{
            .key = key, .value = value, .headers = {{"a", header}, {"b", header / 2}}, .dlq_header_bytes = 900};
        const auto cuts = fit_dead_letter(sizes, 1'000'000);
        CAPTURE(key);
        CAPTURE(value);
        CAPTURE(header);
        CHECK(size_of(sizes, cuts) <= 1'000'000);
        CHECK(cuts.key_size <= key);
        CHECK(cuts.value_size <= value);
      }
    }
  }
}

TEST_CASE("many small headers: the removal list stays short and the answer still fits") {
  // About 1 MB of tiny headers, which the estimate charges more than the broker did.
  std::vector<std::string> names;
  for (int i = 0; i < 100'000; ++i) names.push_back("h" + std::to_string(i));
  DeadLetterSizes sizes{.key = 1, .value = 5, .headers = {}, .dlq_header_bytes = 700};
  for (const auto& name : names) sizes.headers.emplace_back(name, 2);
  const auto cuts = fit_dead_letter(sizes, 1'000'000);
  CHECK(size_of(sizes, cuts) <= 1'000'000);
  REQUIRE(cuts.removed_headers);
  CHECK(cuts.removed_headers->size() < 2'000);  // 32 listed by name, then one entry for the rest
  CHECK(cuts.removed_headers->find(R"(["...",)") != std::string::npos);
  CHECK(cuts.removed_count < 100'000);  // only what had to go
}

TEST_CASE("a refused dead letter loses half of its original headers' bytes, the largest first") {
  using kernel::detail::headers_to_halve;
  const std::vector<std::pair<std::string_view, std::size_t>> headers{{"a", 10}, {"big", 500}, {"b", 20}, {"mid", 300}};
  CHECK(headers_to_halve(headers) == std::vector<std::size_t>{1});  // 500 of 870 bytes with framing
  std::vector<std::pair<std::string_view, std::size_t>> many;
  const std::string name = "h";
  for (int i = 0; i < 2000; ++i) many.emplace_back(name, 8);
  const auto cut = headers_to_halve(many);
  CHECK(cut.size() == 1000);  // equal sizes: half of them, not one per refusal
  CHECK(headers_to_halve({{"only", 3}}) == std::vector<std::size_t>{0});
  CHECK(headers_to_halve({}).empty());
}

TEST_CASE("dlq-removed-headers of a letter cut again keeps the earlier entries and its bound") {
  using kernel::detail::merge_removed_headers;
  CHECK(merge_removed_headers("[]", {{"x", 5}}) == R"([["x",5]])");
  CHECK(merge_removed_headers(R"([["blob",999600]])", {{"x", 5}}) == R"([["blob",999600],["x",5]])");
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back("h" + std::to_string(i));
  std::vector<std::pair<std::string_view, std::size_t>> first;
  for (int i = 0; i < 20; ++i) first.emplace_back(names[i], 1);
  std::vector<std::pair<std::string_view, std::size_t>> more;
  for (int i = 0; i < 40; ++i) more.emplace_back(names[i], 2);
  const auto once = merge_removed_headers("[]", first);
  const auto twice = merge_removed_headers(once, more);  // 60 removed in all: 32 listed, 28 counted
  CHECK(twice.starts_with(R"([["h0",1],["h1",1],)"));
  CHECK(twice.ends_with(R"(["...",28,56]])"));
  const auto thrice = merge_removed_headers(twice, {{"late", 7}});
  CHECK(thrice.ends_with(R"(["...",29,63]])"));
  // Not a list of ours (an input could carry anything under that name): started afresh.
  CHECK(merge_removed_headers("not json", {{"x", 5}}) == R"([["x",5]])");
  CHECK(merge_removed_headers(R"([{"a":1},["y"],[1,2]])", {{"x", 5}}) == R"([["x",5]])");
}

}  // namespace dead_letter_fit_test
