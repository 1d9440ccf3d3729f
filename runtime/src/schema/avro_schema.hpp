#pragma once
// An Avro writer schema, parsed by avro-c and compiled once into a flat tree of nodes the codec
// walks (avro_codec.hpp). avro-c judges the schema (names, references, symbols); the codec does
// not walk avro-c's own schema per message: its record fields and union branches sit in hash
// tables, and its binary reader trusts length prefixes and block counts (it allocates what a
// corrupt prefix says before reading it).
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace kernel::schema {

/// Why a schema, a payload or a value was refused. Each kind is its own dead-letter reason.
enum class AvroErrorKind {
  invalid_schema,  ///< the schema text is not an Avro schema avro-c accepts
  truncated,       ///< the payload ends inside a value
  corrupt,         ///< the payload's bytes cannot be what the schema says (a bad length, union index, UTF-8)
  mismatch,        ///< the value does not fit the schema (a JSON field's type, a missing field, bytes left over)
};

/// An Avro failure: its kind, where in the value (`$.order.items[2]`) and what.
class AvroError : public std::exception {
 public:
  AvroError(AvroErrorKind kind, std::string detail) : kind_(kind), detail_(std::move(detail)) { compose(); }
  AvroErrorKind kind() const noexcept { return kind_; }
  const std::string& path() const noexcept { return path_; }
  const char* what() const noexcept override { return what_.c_str(); }
  /// Called while the error unwinds out of a field or item: the path is built only on failure.
  void prepend(std::string_view segment) {
    path_.insert(0, segment);
    compose();
  }

 private:
  void compose() { what_ = path_.empty() ? detail_ : "$" + path_ + ": " + detail_; }
  AvroErrorKind kind_;
  std::string detail_;
  std::string path_;
  std::string what_;
};

enum class AvroType : std::uint8_t {
  null,
  boolean,
  int32,
  int64,
  float32,
  float64,
  bytes,
  string,
  record,
  enumeration,
  fixed,
  array,
  map,
  union_
};

struct AvroField {
  std::string name;
  std::size_t type = 0;                         ///< index of the field's node
  std::optional<nlohmann::json> default_value;  ///< as written in the schema (Avro's JSON form)
};

struct AvroNode {
  AvroType type = AvroType::null;
  std::string name;                   ///< full name of a record, enum or fixed; the type's name otherwise
  std::vector<AvroField> fields;      ///< record
  std::vector<std::string> symbols;   ///< enum
  std::vector<std::size_t> branches;  ///< union
  std::size_t items = 0;              ///< array items, map values
  std::size_t fixed_size = 0;         ///< fixed
};

/// A compiled writer schema: nodes()[0] is the top-level type. Immutable, shared between threads.
class AvroSchema {
 public:
  explicit AvroSchema(std::vector<AvroNode> nodes) : nodes_(std::move(nodes)) {}
  const std::vector<AvroNode>& nodes() const noexcept { return nodes_; }
  const AvroNode& node(std::size_t index) const noexcept { return nodes_[index]; }

 private:
  std::vector<AvroNode> nodes_;
};

/// Parses `json_text` with avro-c and compiles it; AvroError(invalid_schema) when it is not a
/// schema (avro-c's message), is larger than max_schema_bytes or nests deeper than 64 levels.
std::shared_ptr<const AvroSchema> parse_avro_schema(std::string_view json_text);

inline constexpr std::size_t max_schema_bytes = 1 << 20;

/// Parsed schemas by their text, at most `capacity` (the oldest half is dropped when full):
/// parsing costs far more than a message, and Outgoing::avro() passes the text every call.
class AvroSchemaCache {
 public:
  explicit AvroSchemaCache(std::size_t capacity = 256) : capacity_(capacity) {}
  std::shared_ptr<const AvroSchema> get(std::string_view json_text);
  std::size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const AvroSchema> schema;
    std::uint64_t added = 0;
  };
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
  };
  std::size_t capacity_;
  std::uint64_t added_ = 0;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry, TextHash, std::equal_to<>> entries_;
};

/// The process's cache, shared by Message::avro() and Outgoing::avro(): one lock around
/// avro-c's parser, and a schema read and written is compiled once.
AvroSchemaCache& shared_avro_schemas();

}  // namespace kernel::schema
