#pragma once
// The project's own docs/ pages, read by tests that keep a page and the code in agreement: a
// page's text and the cells of its Markdown tables.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace docs_pages {

/// The text of docs/`page` (KERNEL_DOCS_DIR is given by tests/CMakeLists.txt).
inline std::string read_doc(const std::string& page) {
  std::ifstream file(std::string(KERNEL_DOCS_DIR) + "/" + page);
  REQUIRE_MESSAGE(file, page);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

inline std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return std::string(text.substr(first, text.find_last_not_of(" \t") - first + 1));
}

/// The cells of a Markdown table row, trimmed (`\|` stays inside its cell).
inline std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (line[i] == '|') {
      cells.push_back(trim(cell));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return cells;
}

}  // namespace docs_pages
