// Avro binary to JSON: a bounded reader over the payload, walking the compiled schema.
#include <bit>
#include <cstdint>
#include <cstring>

#include "core/base64.hpp"
#include "core/utf8.hpp"
#include "schema/avro_codec.hpp"

namespace kernel::schema {
namespace {

AvroError truncated(const char* what) {
  return AvroError(AvroErrorKind::truncated, std::string("payload ends inside ") + what);
}
AvroError corrupt(std::string detail) { return AvroError(AvroErrorKind::corrupt, std::move(detail)); }

bool is_utf8(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    if (static_cast<unsigned char>(text[at]) < 0x80) {
      ++at;
      continue;
    }
    const auto character = detail::decode_utf8(text, at);
    if (!character) return false;
    at += character->length;
  }
  return true;
}

class Decoder {
 public:
  Decoder(const AvroSchema& schema, std::string_view payload)
      : schema_(schema),
        at_(reinterpret_cast<const unsigned char*>(payload.data())),
        end_(at_ + payload.size()),
        // Every value read costs at least one JSON node; items that take no bytes (null, an
        // empty record) would otherwise let a 10-byte count ask for 2^62 of them.
        budget_(payload.size() * 2 + 4096) {}

  std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - at_); }

  nlohmann::json value(std::size_t index, int depth) {
    if (depth > max_avro_depth) throw corrupt("value nested deeper than " + std::to_string(max_avro_depth) + " levels");
    if (budget_-- == 0) throw corrupt("more values than the payload's size allows");
    const AvroNode& node = schema_.node(index);
    switch (node.type) {
      case AvroType::null: return nullptr;
      case AvroType::boolean: {
        const auto byte = take(1, "a boolean")[0];
        if (byte > 1) throw corrupt("boolean byte " + std::to_string(byte));
        return byte == 1;
      }
      case AvroType::int32: {
        const auto number = varint("an int");
        if (number < INT32_MIN || number > INT32_MAX) throw corrupt("int out of 32-bit range");
        return number;
      }
      case AvroType::int64: return varint("a long");
      case AvroType::float32: {
        const auto bits = little_endian<std::uint32_t>("a float");
        return static_cast<double>(std::bit_cast<float>(bits));
      }
      case AvroType::float64: return std::bit_cast<double>(little_endian<std::uint64_t>("a double"));
      case AvroType::bytes: return detail::base64_encode(sized("bytes"));
      case AvroType::string: return text("a string");
      case AvroType::fixed: return detail::base64_encode(take(node.fixed_size, "a fixed"));
      case AvroType::enumeration: {
        const auto symbol = varint("an enum");
        if (symbol < 0 || static_cast<std::size_t>(symbol) >= node.symbols.size())
          throw corrupt("enum index " + std::to_string(symbol) + " outside " + node.name + "'s " +
                        std::to_string(node.symbols.size()) + " symbols");
        return node.symbols[static_cast<std::size_t>(symbol)];
      }
      case AvroType::union_: {
        const auto branch = varint("a union");
        if (branch < 0 || static_cast<std::size_t>(branch) >= node.branches.size())
          throw corrupt("union branch " + std::to_string(branch) + " outside its " +
                        std::to_string(node.branches.size()) + " branches");
        return value(node.branches[static_cast<std::size_t>(branch)], depth + 1);
      }
      case AvroType::record: {
        auto object = nlohmann::json::object();
        for (const auto& field : node.fields) {
          try {
            object[field.name] = value(field.type, depth + 1);
          } catch (AvroError& error) {
            error.prepend("." + field.name);
            throw;
          }
        }
        return object;
      }
      case AvroType::array: {
        auto array = nlohmann::json::array();
        blocks(depth, [&](std::size_t i) {
          try {
            array.push_back(value(node.items, depth + 1));
          } catch (AvroError& error) {
            error.prepend("[" + std::to_string(i) + "]");
            throw;
          }
        });
        return array;
      }
      case AvroType::map: {
        auto object = nlohmann::json::object();
        blocks(depth, [&](std::size_t) {
          auto key = text("a map key");
          try {
            object[key.get_ref<const std::string&>()] = value(node.items, depth + 1);
          } catch (AvroError& error) {
            error.prepend("." + key.get_ref<const std::string&>());
            throw;
          }
        });
        return object;
      }
    }
    throw corrupt("unknown node");
  }

 private:
  std::int64_t varint(const char* what) {
    std::uint64_t raw = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ == end_) throw truncated(what);
      const auto byte = *at_++;
      raw |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return static_cast<std::int64_t>((raw >> 1) ^ (~(raw & 1) + 1));  // zigzag
    }
    throw corrupt(std::string("varint of more than 10 bytes in ") + what);
  }

  std::string_view take(std::size_t size, const char* what) {
    if (size > left()) throw truncated(what);
    const std::string_view bytes(reinterpret_cast<const char*>(at_), size);
    at_ += size;
    return bytes;
  }

  // A length prefix is checked against what is left before anything is allocated for it.
  std::string_view sized(const char* what) {
    const auto size = varint(what);
    if (size < 0) throw corrupt(std::string("negative length in ") + what);
    if (static_cast<std::uint64_t>(size) > left())
      throw truncated(what);  // a length past the end: the payload was cut (or is not this schema)
    return take(static_cast<std::size_t>(size), what);
  }

  nlohmann::json text(const char* what) {
    const auto bytes = sized(what);
    if (!is_utf8(bytes)) throw corrupt(std::string(what) + " that is not UTF-8");
    return std::string(bytes);
  }

  template <class Unsigned>
  Unsigned little_endian(const char* what) {
    const auto bytes = take(sizeof(Unsigned), what);
    Unsigned result = 0;
    for (std::size_t i = 0; i < sizeof(Unsigned); ++i)
      result |= static_cast<Unsigned>(static_cast<unsigned char>(bytes[i])) << (8 * i);
    return result;
  }

  // Arrays and maps come in blocks: a count, then that many items; a negative count is followed
  // by the block's size in bytes; zero ends the list.
  template <class Item>
  void blocks(int, Item&& item) {
    std::size_t index = 0;
    for (;;) {
      auto count = varint("a block count");
      if (count == 0) return;
      if (count < 0) {
        if (count == INT64_MIN) throw corrupt("block count out of range");
        count = -count;
        const auto size = varint("a block size");
        if (size < 0 || static_cast<std::uint64_t>(size) > left()) throw truncated("a block");
      }
      if (static_cast<std::uint64_t>(count) > budget_) throw corrupt("more values than the payload's size allows");
      for (std::int64_t i = 0; i < count; ++i) item(index++);
    }
  }

  const AvroSchema& schema_;
  const unsigned char* at_;
  const unsigned char* end_;
  std::size_t budget_;
};

}  // namespace

nlohmann::json avro_decode(const AvroSchema& schema, std::string_view payload) {
  Decoder decoder(schema, payload);
  auto result = decoder.value(0, 0);
  if (decoder.left() != 0)
    throw AvroError(AvroErrorKind::mismatch,
                    std::to_string(decoder.left()) + " bytes left after the value: written with another schema?");
  return result;
}

}  // namespace kernel::schema
