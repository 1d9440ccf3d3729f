#pragma once
// Confluent's wire format: a value written through a schema registry starts with the magic
// byte 0 and the schema's id (4 bytes, big-endian); for Protobuf, the index of the message in
// the schema's file follows (its path through nested messages), as zig-zag varints: the
// count, then each index, with a single 0 standing for [0], the file's first message. Reading
// allocates nothing: the payload is a view into the value.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kernel::schema {

inline constexpr unsigned char confluent_magic_byte = 0;
/// Magic byte and schema id.
inline constexpr std::size_t confluent_header_size = 5;
/// Deepest message nesting read: a longer path is refused rather than trusted.
inline constexpr std::size_t max_message_index_depth = 16;

/// Why a value is not in the wire format.
enum class FrameError {
  none,
  wrong_magic_byte,   ///< empty, or the first byte is not 0: not written through a registry
  truncated,          ///< ends inside the header or the message-index list
  bad_message_index,  ///< a negative index, more than max_message_index_depth, or a varint too long
};

/// The header of a value: the schema id and what follows it.
struct Frame {
  std::int32_t schema_id = 0;
  std::string_view payload;
};

/// The path of a Protobuf message through its file: [0] the first top-level message, [1, 0]
/// the first message nested in the second.
struct MessageIndex {
  std::array<std::int32_t, max_message_index_depth> path{};
  std::size_t depth = 0;

  friend bool operator==(const MessageIndex& a, const MessageIndex& b) noexcept {
    if (a.depth != b.depth) return false;
    for (std::size_t i = 0; i < a.depth; ++i) {
      if (a.path[i] != b.path[i]) return false;
    }
    return true;
  }
};

/// Reads the magic byte and the schema id; `frame.payload` is the rest.
FrameError read_frame(std::string_view value, Frame& frame) noexcept;
/// Reads the message-index list at the start of `frame.payload` and moves the payload past it.
FrameError read_message_index(Frame& frame, MessageIndex& index) noexcept;

/// Appends the magic byte and `schema_id`.
void write_frame_header(std::string& out, std::int32_t schema_id);
/// Appends `index` as zig-zag varints ([0] as the single byte 0).
void write_message_index(std::string& out, const MessageIndex& index);

/// "wrong magic byte", "truncated", ...: for messages.
std::string_view to_string(FrameError error) noexcept;

}  // namespace kernel::schema
