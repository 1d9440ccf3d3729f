#pragma once
// Parsing JSON (or MessagePack) that comes from outside (message values, JSON Lines) with its
// nesting bounded by kernel::max_json_depth. nlohmann parses any depth iteratively, but dump(), comparisons and
// from_json recurse once per level: 100,000 levels (a ~200 KB value) overflow the stack
// wherever the document is later serialised.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kernel/message.hpp"

namespace kernel::detail {

/// A document nested deeper than kernel::max_json_depth.
class JsonTooDeep : public std::runtime_error {
 public:
  JsonTooDeep()
      : std::runtime_error("JSON nested deeper than " + std::to_string(max_json_depth) +
                           " levels (kernel::max_json_depth)") {}
};

/// nlohmann's own DOM builder, counting open objects and arrays on the way. Checking here
/// costs nothing measurable per message; a parser callback (the public way) cost ~20% of a
/// 200-byte parse, because the callback parser calls back on every value and keeps its own stacks.
template <class Json>
class DepthBoundedBuilder {
 public:
  explicit DepthBoundedBuilder(Json& result) : dom_(result, true) {}

  bool null() { return dom_.null(); }
  bool boolean(bool value) { return dom_.boolean(value); }
  bool number_integer(typename Json::number_integer_t value) { return dom_.number_integer(value); }
  bool number_unsigned(typename Json::number_unsigned_t value) { return dom_.number_unsigned(value); }
  bool number_float(typename Json::number_float_t value, const typename Json::string_t& text) {
    return dom_.number_float(value, text);
  }
  bool string(typename Json::string_t& value) { return dom_.string(value); }
  bool binary(typename Json::binary_t& value) { return dom_.binary(value); }
  bool start_object(std::size_t size) {
    enter();
    return dom_.start_object(size);
  }
  bool key(typename Json::string_t& name) { return dom_.key(name); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t size) {
    enter();
    return dom_.start_array(size);
  }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& error) {
    return dom_.parse_error(position, token, error);  // throws it
  }

 private:
  void enter() {
    if (++depth_ > max_json_depth) throw JsonTooDeep();
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  std::size_t depth_ = 0;
};

/// Like Json::parse(text): the whole text must be one JSON value. Throws what nlohmann throws
/// (parse_error; out_of_range for a number beyond a double, such as 1e999), or JsonTooDeep.
template <class Json>
Json parse_bounded_json(std::string_view text) {
  Json result;
  DepthBoundedBuilder<Json> builder(result);
  Json::sax_parse(text, &builder);
  return result;
}

/// The same for MessagePack bytes: the whole input must be one value (nothing after it). Its
/// reader recurses once per level, so the bound also keeps the parse itself off the stack's end.
template <class Json>
Json parse_bounded_msgpack(std::string_view bytes) {
  Json result;
  DepthBoundedBuilder<Json> builder(result);
  Json::sax_parse(bytes.begin(), bytes.end(), &builder, nlohmann::json::input_format_t::msgpack);
  return result;
}

}  // namespace kernel::detail
