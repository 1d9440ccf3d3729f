#pragma once
// A JSON Lines line's text as a JSON document, read so that the document is the line: names
// in their order (a MessagePack map is encoded in that order), nesting bounded by
// kernel::max_json_depth, and each name once per object (nlohmann keeps the last of a repeated
// name and drops the others without a word).
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kernel::detail {

/// An object that gives a name twice; what() quotes the name.
class RepeatedName : public std::runtime_error {
 public:
  explicit RepeatedName(const std::string& name);
};

/// Throws what nlohmann throws (parse_error, out_of_range for 1e999), JsonTooDeep
/// or RepeatedName.
nlohmann::ordered_json parse_line_json(std::string_view text);

}  // namespace kernel::detail
