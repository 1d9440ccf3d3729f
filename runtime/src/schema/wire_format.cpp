// Confluent's wire format, read and written (wire_format.hpp).
#include "schema/wire_format.hpp"

namespace kernel::schema {

namespace {

// A zig-zag varint of at most 32 bits: 5 bytes, the last holding 4 bits.
FrameError read_zigzag(std::string_view& in, std::int32_t& value) noexcept {
  std::uint32_t raw = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (in.empty()) return FrameError::truncated;
    const auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    if (shift == 28 && (byte & 0xF0) != 0) return FrameError::bad_message_index;
    raw |= static_cast<std::uint32_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      value = static_cast<std::int32_t>((raw >> 1) ^ (~(raw & 1) + 1));
      return FrameError::none;
    }
  }
  return FrameError::bad_message_index;
}

void write_zigzag(std::string& out, std::int32_t value) {
  auto raw = (static_cast<std::uint32_t>(value) << 1) ^ static_cast<std::uint32_t>(value >> 31);
  while (raw >= 0x80) {
    out += static_cast<char>((raw & 0x7F) | 0x80);
    raw >>= 7;
  }
  out += static_cast<char>(raw);
}

}  // namespace

FrameError read_frame(std::string_view value, Frame& frame) noexcept {
  if (value.empty() || static_cast<unsigned char>(value.front()) != confluent_magic_byte) {
    return FrameError::wrong_magic_byte;
  }
  if (value.size() < confluent_header_size) return FrameError::truncated;
  std::uint32_t id = 0;
  for (std::size_t i = 1; i < confluent_header_size; ++i) id = (id << 8) | static_cast<unsigned char>(value[i]);
  frame.schema_id = static_cast<std::int32_t>(id);
  frame.payload = value.substr(confluent_header_size);
  return FrameError::none;
}

FrameError read_message_index(Frame& frame, MessageIndex& index) noexcept {
  std::string_view in = frame.payload;
  std::int32_t count = 0;
  if (auto error = read_zigzag(in, count); error != FrameError::none) return error;
  if (count == 0) {
    index.path[0] = 0;
    index.depth = 1;
  } else {
    if (count < 0 || static_cast<std::size_t>(count) > max_message_index_depth) return FrameError::bad_message_index;
    for (std::int32_t i = 0; i < count; ++i) {
      if (auto error = read_zigzag(in, index.path[i]); error != FrameError::none) return error;
      if (index.path[i] < 0) return FrameError::bad_message_index;
    }
    index.depth = static_cast<std::size_t>(count);
  }
  frame.payload = in;
  return FrameError::none;
}

void write_frame_header(std::string& out, std::int32_t schema_id) {
  const auto id = static_cast<std::uint32_t>(schema_id);
  out += static_cast<char>(confluent_magic_byte);
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((id >> shift) & 0xFF);
}

void write_message_index(std::string& out, const MessageIndex& index) {
  if (index.depth == 1 && index.path[0] == 0) {
    out += '\0';  // the first message's shortcut, as every Confluent serializer writes it
    return;
  }
  write_zigzag(out, static_cast<std::int32_t>(index.depth));
  for (std::size_t i = 0; i < index.depth; ++i) write_zigzag(out, index.path[i]);
}

std::string_view to_string(FrameError error) noexcept {
  switch (error) {
    case FrameError::none: return "none";
    case FrameError::wrong_magic_byte: return "wrong magic byte";
    case FrameError::truncated: return "truncated";
    case FrameError::bad_message_index: return "bad message index";
  }
  return "none";
}

}  // namespace kernel::schema
