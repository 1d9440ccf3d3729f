#include "broker/jsonl_parse.hpp"

#include <unordered_set>
#include <vector>

#include "core/bounded_json.hpp"

namespace kernel::detail {

namespace {

using Json = nlohmann::ordered_json;

/// The depth-bounded builder, and the names given so far in each open object.
class LineBuilder {
 public:
  explicit LineBuilder(Json& result) : bounded_(result) {}

  bool null() { return bounded_.null(); }
  bool boolean(bool value) { return bounded_.boolean(value); }
  bool number_integer(Json::number_integer_t value) { return bounded_.number_integer(value); }
  bool number_unsigned(Json::number_unsigned_t value) { return bounded_.number_unsigned(value); }
  bool number_float(Json::number_float_t value, const Json::string_t& text) {
    return bounded_.number_float(value, text);
  }
  bool string(Json::string_t& value) { return bounded_.string(value); }
  bool binary(Json::binary_t& value) { return bounded_.binary(value); }
  bool start_object(std::size_t size) {
    const bool more = bounded_.start_object(size);  // throws when too deep, before a set is made
    names_.emplace_back();
    return more;
  }
  bool key(Json::string_t& name) {
    if (!names_.back().insert(name).second) throw RepeatedName(name);
    return bounded_.key(name);
  }
  bool end_object() {
    names_.pop_back();
    return bounded_.end_object();
  }
  bool start_array(std::size_t size) { return bounded_.start_array(size); }
  bool end_array() { return bounded_.end_array(); }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& error) {
    return bounded_.parse_error(position, token, error);  // throws it
  }

 private:
  DepthBoundedBuilder<Json> bounded_;
  std::vector<std::unordered_set<std::string>> names_;
};

}  // namespace

RepeatedName::RepeatedName(const std::string& name)
    : std::runtime_error(nlohmann::json(name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                         " appears twice in one object") {}

Json parse_line_json(std::string_view text) {
  Json result;
  LineBuilder builder(result);
  Json::sax_parse(text, &builder);
  return result;
}

}  // namespace kernel::detail
