// Confluent's wire format: the header and the Protobuf message-index list read back what was
// written, and every malformed value gets its own FrameError.
#include <doctest/doctest.h>

#include <string>

#include "schema/wire_format.hpp"

namespace schema_wire_format_test {

using namespace kernel::schema;
using namespace std::string_literals;

namespace {

MessageIndex index_of(std::initializer_list<std::int32_t> path) {
  MessageIndex index;
  for (auto step : path) index.path[index.depth++] = step;
  return index;
}

}  // namespace

TEST_CASE("wire format: the header is the magic byte 0 and the id big-endian") {
  std::string out;
  write_frame_header(out, 0x01020304);
  CHECK(out == "\x00\x01\x02\x03\x04"s);
  out += "payload";
  Frame frame;
  REQUIRE(read_frame(out, frame) == FrameError::none);
  CHECK(frame.schema_id == 0x01020304);
  CHECK(frame.payload == "payload");
}

TEST_CASE("wire format: a header alone has an empty payload") {
  std::string out;
  write_frame_header(out, 7);
  Frame frame;
  REQUIRE(read_frame(out, frame) == FrameError::none);
  CHECK(frame.schema_id == 7);
  CHECK(frame.payload.empty());
}

TEST_CASE("wire format: an empty value or another first byte is wrong_magic_byte") {
  Frame frame;
  CHECK(read_frame("", frame) == FrameError::wrong_magic_byte);
  CHECK(read_frame("{\"id\":1}", frame) == FrameError::wrong_magic_byte);
  CHECK(read_frame("\x01\x00\x00\x00\x01"s, frame) == FrameError::wrong_magic_byte);
}

TEST_CASE("wire format: a value that ends inside the header is truncated") {
  Frame frame;
  for (std::size_t size = 1; size < confluent_header_size; ++size) {
    CAPTURE(size);
    CHECK(read_frame(std::string(size, '\0'), frame) == FrameError::truncated);
  }
}

TEST_CASE("wire format: the first message is written as the single byte 0 and read as [0]") {
  std::string out;
  write_message_index(out, index_of({0}));
  CHECK(out == "\x00"s);
  const auto stored = "\x00rest"s;
  Frame frame{1, stored};
  MessageIndex index;
  REQUIRE(read_message_index(frame, index) == FrameError::none);
  CHECK(index == index_of({0}));
  CHECK(frame.payload == "rest");
}

TEST_CASE("wire format: a nested path is its zig-zag count and indexes") {
  std::string out;
  write_message_index(out, index_of({1, 0, 70}));
  // count 3 -> 6; 1 -> 2; 0 -> 0; 70 -> 140 = 0x8C 0x01
  CHECK(out == "\x06\x02\x00\x8c\x01"s);
  std::string stored = out + "x";
  Frame frame{1, stored};
  MessageIndex index;
  REQUIRE(read_message_index(frame, index) == FrameError::none);
  CHECK(index == index_of({1, 0, 70}));
  CHECK(frame.payload == "x");
}

TEST_CASE("wire format: a message-index list that ends early is truncated") {
  MessageIndex index;
  for (const auto& value : {""s, "\x06\x02"s, "\x02\x8c"s, "\x80"s}) {
    CAPTURE(value.size());
    Frame frame{1, value};
    CHECK(read_message_index(frame, index) == FrameError::truncated);
  }
}

TEST_CASE("wire format: a negative count or index, a list too deep or a varint too long is bad_message_index") {
  MessageIndex index;
  const std::string too_deep = "\x22"s + std::string(17, '\x00');  // count 17
  for (const auto& value : {"\x01"s, "\x02\x01"s, too_deep, "\xff\xff\xff\xff\x7f"s, "\x80\x80\x80\x80\x80\x01"s}) {
    CAPTURE(value.size());
    Frame frame{1, value};
    CHECK(read_message_index(frame, index) == FrameError::bad_message_index);
  }
}

}  // namespace schema_wire_format_test
