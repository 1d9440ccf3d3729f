// JSON to Avro binary, walking the compiled schema. A field missing from the JSON takes the
// schema's default; a default is written as Avro's JSON encoding says (a union's default is for
// its first branch, bytes and fixed are strings of code points 0-255).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "core/base64.hpp"
#include "schema/avro_codec.hpp"

namespace kernel::schema {
namespace {

AvroError mismatch(std::string detail) { return AvroError(AvroErrorKind::mismatch, std::move(detail)); }

const char* json_kind(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  return "an object";
}

AvroError expected(const char* what, const nlohmann::json& value) {
  return mismatch(std::string("expected ") + what + ", got " + json_kind(value));
}

// Whether `value` could be a value of `node` at a glance: picks a union's branch without trying
// (and throwing from) each one.
bool fits(const AvroNode& node, const nlohmann::json& value) {
  switch (node.type) {
    case AvroType::null: return value.is_null();
    case AvroType::boolean: return value.is_boolean();
    case AvroType::int32:
    case AvroType::int64: return value.is_number_integer();
    case AvroType::float32:
    case AvroType::float64: return value.is_number();
    case AvroType::string: return value.is_string();
    case AvroType::enumeration:
      return value.is_string() && std::find(node.symbols.begin(), node.symbols.end(),
                                            value.get_ref<const std::string&>()) != node.symbols.end();
    case AvroType::bytes:
    case AvroType::fixed: return value.is_string();
    case AvroType::record:
    case AvroType::map: return value.is_object();
    case AvroType::array: return value.is_array();
    case AvroType::union_: return false;  // a union directly in a union is not valid Avro
  }
  return false;
}

class Encoder {
 public:
  Encoder(const AvroSchema& schema, std::string& out) : schema_(schema), out_(out) {}

  void value(std::size_t index, const nlohmann::json& json, bool as_default, int depth) {
    if (depth > max_avro_depth)
      throw mismatch("value nested deeper than " + std::to_string(max_avro_depth) + " levels");
    const AvroNode& node = schema_.node(index);
    switch (node.type) {
      case AvroType::null:
        if (!json.is_null()) throw expected("null", json);
        return;
      case AvroType::boolean:
        if (!json.is_boolean()) throw expected("a boolean", json);
        out_.push_back(json.get<bool>() ? 1 : 0);
        return;
      case AvroType::int32: {
        const auto number = integer(json, "an int");
        if (number < INT32_MIN || number > INT32_MAX) throw mismatch(std::to_string(number) + " does not fit an int");
        varint(number);
        return;
      }
      case AvroType::int64: varint(integer(json, "a long")); return;
      case AvroType::float32:
        if (!json.is_number()) throw expected("a number", json);
        little_endian(std::bit_cast<std::uint32_t>(json.get<float>()));
        return;
      case AvroType::float64:
        if (!json.is_number()) throw expected("a number", json);
        little_endian(std::bit_cast<std::uint64_t>(json.get<double>()));
        return;
      case AvroType::string:
        if (!json.is_string()) throw expected("a string", json);
        sized(json.get_ref<const std::string&>());
        return;
      case AvroType::bytes: sized(bytes(json, as_default)); return;
      case AvroType::fixed: {
        const auto data = bytes(json, as_default);
        if (data.size() != node.fixed_size)
          throw mismatch(node.name + " takes " + std::to_string(node.fixed_size) + " bytes, got " +
                         std::to_string(data.size()));
        out_.append(data);
        return;
      }
      case AvroType::enumeration: {
        if (!json.is_string()) throw expected("an enum symbol", json);
        const auto& symbol = json.get_ref<const std::string&>();
        const auto found = std::find(node.symbols.begin(), node.symbols.end(), symbol);
        if (found == node.symbols.end()) throw mismatch("'" + symbol + "' is not a symbol of " + node.name);
        varint(found - node.symbols.begin());
        return;
      }
      case AvroType::union_: union_value(node, json, as_default, depth); return;
      case AvroType::record: record(node, json, as_default, depth); return;
      case AvroType::array: {
        if (!json.is_array()) throw expected("an array", json);
        if (!json.empty()) varint(static_cast<std::int64_t>(json.size()));
        for (std::size_t i = 0; i < json.size(); ++i) {
          try {
            value(node.items, json[i], as_default, depth + 1);
          } catch (AvroError& error) {
            error.prepend("[" + std::to_string(i) + "]");
            throw;
          }
        }
        varint(0);
        return;
      }
      case AvroType::map: {
        if (!json.is_object()) throw expected("an object (a map)", json);
        if (!json.empty()) varint(static_cast<std::int64_t>(json.size()));
        for (const auto& [key, item] : json.items()) {
          sized(key);
          try {
            value(node.items, item, as_default, depth + 1);
          } catch (AvroError& error) {
            error.prepend("." + key);
            throw;
          }
        }
        varint(0);
        return;
      }
    }
  }

 private:
  void record(const AvroNode& node, const nlohmann::json& json, bool as_default, int depth) {
    if (!json.is_object()) throw expected(("an object (record " + node.name + ")").c_str(), json);
    std::size_t matched = 0;
    for (const auto& field : node.fields) {
      const auto found = json.find(field.name);
      try {
        if (found != json.end()) {
          ++matched;
          value(field.type, *found, as_default, depth + 1);
        } else if (field.default_value) {
          value(field.type, *field.default_value, true, depth + 1);
        } else {
          throw mismatch("missing, and " + node.name + " gives it no default");
        }
      } catch (AvroError& error) {
        error.prepend("." + field.name);
        throw;
      }
    }
    if (matched != json.size()) {
      for (const auto& [key, item] : json.items()) {
        const bool known =
            std::any_of(node.fields.begin(), node.fields.end(), [&](const auto& field) { return field.name == key; });
        if (!known) throw mismatch("field '" + key + "' is not in record " + node.name);
      }
    }
  }

  void union_value(const AvroNode& node, const nlohmann::json& json, bool as_default, int depth) {
    if (as_default) {  // a union's default is a value of its first branch
      varint(0);
      value(node.branches.front(), json, true, depth + 1);
      return;
    }
    // The plain value: string, enum and the other exact kinds before bytes and fixed, so a
    // string is not taken for base64 when a string branch exists. One branch that fits is
    // written directly (its error names the field); several (two records, a record and a map)
    // are tried in order.
    const auto wrapped = wrapper_branch(node, json);
    const auto each_candidate = [&](auto&& call) {  // no list: a union is on the per-message path
      for (const bool byte_kinds : {false, true}) {
        for (std::size_t i = 0; i < node.branches.size(); ++i) {
          const auto& branch = schema_.node(node.branches[i]);
          const bool is_bytes = branch.type == AvroType::bytes || branch.type == AvroType::fixed;
          if (is_bytes == byte_kinds && fits(branch, json) && call(i)) return;
        }
      }
    };
    std::size_t count = 0;
    std::size_t first = 0;
    each_candidate([&](std::size_t i) {
      if (count++ == 0) first = i;
      return false;
    });
    if (count == 1 && !wrapped) {
      varint(static_cast<std::int64_t>(first));
      value(node.branches[first], json, false, depth + 1);
      return;
    }
    std::optional<AvroError> failure;
    bool written = false;
    each_candidate([&](std::size_t i) {
      const auto mark = out_.size();
      try {
        varint(static_cast<std::int64_t>(i));
        value(node.branches[i], json, false, depth + 1);
        return written = true;
      } catch (const AvroError& error) {
        out_.resize(mark);
        if (!failure) failure = error;
        return false;
      }
    });
    if (written) return;
    if (wrapped) {  // Avro's JSON encoding: {"<type name>": value}
      varint(static_cast<std::int64_t>(*wrapped));
      value(node.branches[*wrapped], json.begin().value(), false, depth + 1);
      return;
    }
    if (failure) throw *failure;
    std::string names;
    for (const auto branch : node.branches) names += (names.empty() ? "" : ", ") + schema_.node(branch).name;
    throw mismatch(std::string(json_kind(json)) + " fits none of the union's branches (" + names + ")");
  }

  // The branch {"<type name>": value} names, if `json` has that form.
  std::optional<std::size_t> wrapper_branch(const AvroNode& node, const nlohmann::json& json) const {
    if (!json.is_object() || json.size() != 1) return std::nullopt;
    for (std::size_t i = 0; i < node.branches.size(); ++i) {
      if (schema_.node(node.branches[i]).name == json.begin().key()) return i;
    }
    return std::nullopt;
  }

  static std::int64_t integer(const nlohmann::json& json, const char* what) {
    if (json.is_number_unsigned()) {
      if (json.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) throw mismatch("integer beyond 64 bits");
      return static_cast<std::int64_t>(json.get<std::uint64_t>());
    }
    if (json.is_number_integer()) return json.get<std::int64_t>();
    // 3.0 from a client that writes every number as a double.
    if (json.is_number_float()) {
      const double number = json.get<double>();
      if (std::trunc(number) == number && number >= -9.2e18 && number <= 9.2e18)
        return static_cast<std::int64_t>(number);
    }
    throw expected(what, json);
  }

  // bytes and fixed: base64 in a value; in a schema's default, one character per byte (U+0000-U+00FF).
  static std::string bytes(const nlohmann::json& json, bool as_default) {
    if (!json.is_string()) throw expected("a base64 string", json);
    const auto& text = json.get_ref<const std::string&>();
    if (!as_default) {
      auto decoded = detail::base64_decode(text);
      if (!decoded) throw mismatch("bytes are not base64");
      return std::move(*decoded);
    }
    std::string result;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const auto byte = static_cast<unsigned char>(text[i]);
      if (byte < 0x80) {
        result.push_back(static_cast<char>(byte));
      } else if ((byte == 0xc2 || byte == 0xc3) && i + 1 < text.size()) {
        result.push_back(static_cast<char>(((byte & 0x03) << 6) | (static_cast<unsigned char>(text[++i]) & 0x3f)));
      } else {
        throw mismatch("a bytes default beyond U+00FF");
      }
    }
    return result;
  }

  void varint(std::int64_t number) {
    auto raw = (static_cast<std::uint64_t>(number) << 1) ^ static_cast<std::uint64_t>(number >> 63);  // zigzag
    while (raw >= 0x80) {
      out_.push_back(static_cast<char>((raw & 0x7f) | 0x80));
      raw >>= 7;
    }
    out_.push_back(static_cast<char>(raw));
  }

  void sized(std::string_view data) {
    varint(static_cast<std::int64_t>(data.size()));
    out_.append(data);
  }

  template <class Unsigned>
  void little_endian(Unsigned bits) {
    for (std::size_t i = 0; i < sizeof(Unsigned); ++i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }

  const AvroSchema& schema_;
  std::string& out_;
};

}  // namespace

void avro_encode(const AvroSchema& schema, const nlohmann::json& value, std::string& out) {
  const auto mark = out.size();
  try {
    Encoder(schema, out).value(0, value, false, 0);
  } catch (...) {
    out.resize(mark);
    throw;
  }
}

}  // namespace kernel::schema
