// A record through a JSON Lines line and back gives the same key, value and headers byte for
// byte: random MessagePack values of every kind and random JSON texts in every spelling, from
// a fixed seed so that a failure repeats.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kernel/jsonl.hpp"

namespace jsonl_round_trip_test {

namespace {

constexpr std::uint64_t seed = 20261118;
constexpr int cases = 3000;

/// The engine's raw output taken modulo: unlike the standard distributions, the same numbers
/// on every standard library.
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(engine_() % n); }
  bool one_in(std::size_t n) { return below(n) == 0; }
  std::uint64_t bits() { return engine_(); }
  template <class Choices>
  auto pick(const Choices& choices) {
    return choices[below(choices.size())];
  }

 private:
  std::mt19937_64 engine_;
};

/// UTF-8 text with what JSON escapes (quotes, backslashes, control characters) and
/// characters of every length.
std::string random_text(Random& random, std::size_t max_pieces) {
  static constexpr std::array<std::string_view, 14> pieces = {
      "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\x01", "\x7f", "\xc3\xa9", "\xe2\x9c\x93", "\xf0\x9f\x98\x80", "{"};
  std::string text;
  for (auto n = random.below(max_pieces + 1); n > 0; --n) text += random.pick(pieces);
  return text;
}

/// `size` bytes of any value, often not UTF-8.
std::string random_bytes(Random& random, std::size_t size) {
  std::string bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(random.below(256));
  return bytes;
}

std::string random_string(Random& random, std::size_t max_size) {
  return random.one_in(3) ? random_bytes(random, random.below(max_size + 1)) : random_text(random, max_size);
}

void put_big_endian(std::string& out, std::uint64_t value, int size) {
  for (int shift = (size - 1) * 8; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xff);
}

/// A MessagePack header of the given family: `fix` (or -1 when it has none) holds sizes up to
/// `fix_max` in its low bits, then the 8-, 16- and 32-bit forms, any of them chosen for any
/// size that fits (encoders differ in which they use).
void put_sized_header(Random& random, std::string& out, std::size_t size, int fix, std::size_t fix_max,
                      std::array<unsigned char, 3> codes) {
  if (fix >= 0 && size <= fix_max && random.one_in(2)) {
    out += static_cast<char>(fix | static_cast<int>(size));
    return;
  }
  std::size_t form = random.below(3);
  if (codes[0] == 0) form = std::max<std::size_t>(form, 1);  // arrays and maps have no 8-bit form
  if (form == 0 && size > 0xff) form = 1;
  if (form == 1 && size > 0xffff) form = 2;
  out += static_cast<char>(codes[form]);
  put_big_endian(out, size, 1 << form);
}

/// One MessagePack value, nested at most `depth` more levels, in any of its encodings.
void write_msgpack(Random& random, std::string& out, int depth) {
  static constexpr std::array<double, 8> doubles = {0.0, -0.0, 1.5, 0.1, -3.0, 1e300, 65504.0, 2.5e-320};
  switch (random.below(depth > 0 ? 12 : 9)) {
    case 0: out += random.pick(std::array<char, 3>{'\xc0', '\xc2', '\xc3'}); break;  // nil, false, true
    case 1: out += static_cast<char>(random.one_in(2) ? random.below(0x80) : 0xe0 + random.below(32)); break;
    case 2: {  // uint 8/16/32/64 and int 8/16/32/64, small values too (not the shortest form)
      const auto form = random.below(8);
      const int size = 1 << (form % 4);
      out += static_cast<char>((form < 4 ? 0xcc : 0xd0) + form % 4);
      put_big_endian(out, random.one_in(2) ? random.below(200) : random.bits(), size);
      break;
    }
    case 3: {  // float 32 and 64: chosen values, or any bits (NaN, infinities, subnormals)
      const bool wide = random.one_in(2);
      out += wide ? '\xcb' : '\xca';
      if (random.one_in(2)) {
        put_big_endian(out, random.bits(), wide ? 8 : 4);
      } else if (wide) {
        put_big_endian(out, std::bit_cast<std::uint64_t>(random.pick(doubles)), 8);
      } else {
        put_big_endian(out, std::bit_cast<std::uint32_t>(static_cast<float>(random.pick(doubles))), 4);
      }
      break;
    }
    case 4:
    case 5: {  // str, text or any bytes
      const auto text = random_string(random, 12);
      put_sized_header(random, out, text.size(), 0xa0, 31, {0xd9, 0xda, 0xdb});
      out += text;
      break;
    }
    case 6: {  // bin
      const auto bytes = random_bytes(random, random.below(9));
      put_sized_header(random, out, bytes.size(), -1, 0, {0xc4, 0xc5, 0xc6});
      out += bytes;
      break;
    }
    case 7: {  // ext: fixext 1/2/4/8/16, or ext 8/16/32
      static constexpr std::array<std::size_t, 5> fixed = {1, 2, 4, 8, 16};
      if (random.one_in(2)) {
        const auto which = random.below(fixed.size());
        out += static_cast<char>(0xd4 + which);
        out += static_cast<char>(random.below(256));  // the type, -1 (timestamp) included
        out += random_bytes(random, fixed[which]);
      } else {
        const auto bytes = random_bytes(random, random.below(7));
        put_sized_header(random, out, bytes.size(), -1, 0, {0xc7, 0xc8, 0xc9});
        out += static_cast<char>(random.below(256));
        out += bytes;
      }
      break;
    }
    case 8: out += random_bytes(random, random.below(4)); break;  // anything, whether it decodes or not
    case 9:
    case 10: {  // array
      const auto size = random.below(4);
      put_sized_header(random, out, size, 0x90, 15, {0, 0xdc, 0xdd});
      for (std::size_t i = 0; i < size; ++i) write_msgpack(random, out, depth - 1);
      break;
    }
    default: {  // map, its names mostly strings from a few (so some repeat)
      const auto size = random.below(4);
      put_sized_header(random, out, size, 0x80, 15, {0, 0xde, 0xdf});
      for (std::size_t i = 0; i < size; ++i) {
        if (random.one_in(8)) {
          write_msgpack(random, out, 0);
        } else {
          const auto name = random.pick(std::array<std::string_view, 4>{"a", "b", "id", "\xc3\xa9"});
          out += static_cast<char>(0xa0 | name.size());
          out += name;
        }
        write_msgpack(random, out, depth - 1);
      }
    }
  }
}

void write_whitespace(Random& random, std::string& out) {
  while (random.one_in(4)) out += random.pick(std::array<char, 4>{' ', '\t', '\n', '\r'});
}

void write_digits(Random& random, std::string& out, std::size_t max) {
  for (auto n = 1 + random.below(max); n > 0; --n) out += static_cast<char>('0' + random.below(10));
}

/// A JSON number in any spelling: sign, leading zero, fraction with trailing zeros, exponent
/// in either case with or without a sign, integers beyond 64 bits.
void write_json_number(Random& random, std::string& out) {
  if (random.one_in(3)) out += '-';
  if (random.one_in(3)) {
    out += '0';
  } else {
    out += static_cast<char>('1' + random.below(9));
    if (random.one_in(2)) write_digits(random, out, random.one_in(4) ? 25 : 4);
  }
  if (random.one_in(2)) {
    out += '.';
    write_digits(random, out, 5);
  }
  if (random.one_in(3)) {
    out += random.pick(std::array<char, 2>{'e', 'E'});
    if (!random.one_in(3)) out += random.pick(std::array<char, 2>{'+', '-'});
    write_digits(random, out, 3);
  }
}

/// A JSON string with every escape JSON has, \u in either case and as surrogate pairs.
void write_json_string(Random& random, std::string& out) {
  static constexpr std::array<std::string_view, 16> pieces = {
      "a",   "\xc3\xa9", "\xf0\x9f\x98\x80", "\\\"",    "\\\\",           "\\/",    "\\b", "\\f", "\\n", "\\r",
      "\\t", "\\u0041",  "\\u00e9",          "\\u00E9", "\\ud83d\\ude00", "\\u0000"};
  out += '"';
  for (auto n = random.below(5); n > 0; --n) out += random.pick(pieces);
  out += '"';
}

/// One JSON value, nested at most `depth` more levels, with whitespace anywhere it may go.
void write_json(Random& random, std::string& out, int depth) {
  switch (random.below(depth > 0 ? 7 : 5)) {
    case 0: out += random.pick(std::array<std::string_view, 3>{"null", "true", "false"}); break;
    case 1:
    case 2: write_json_number(random, out); break;
    case 3:
    case 4: write_json_string(random, out); break;
    case 5: {
      out += '[';
      const auto size = random.below(4);
      for (std::size_t i = 0; i < size; ++i) {
        if (i) out += ',';
        write_whitespace(random, out);
        write_json(random, out, depth - 1);
        write_whitespace(random, out);
      }
      out += ']';
      break;
    }
    default: {  // names from a few, so that some repeat and orders vary
      out += '{';
      const auto size = random.below(4);
      for (std::size_t i = 0; i < size; ++i) {
        if (i) out += ',';
        write_whitespace(random, out);
        out += random.pick(std::array<std::string_view, 4>{R"("a")", R"("b")", R"("\u0061")", R"("id")"});
        write_whitespace(random, out);
        out += ':';
        write_whitespace(random, out);
        write_json(random, out, depth - 1);
        write_whitespace(random, out);
      }
      out += '}';
    }
  }
}

/// MessagePack as an encoder writes it, each value in its shortest form: what most values
/// are, and what a line can show decoded.
std::string shortest_msgpack(Random& random) {
  std::string text;
  write_json(random, text, 3);
  std::string bytes;
  try {
    nlohmann::ordered_json::to_msgpack(nlohmann::ordered_json::parse(text), bytes);
  } catch (const nlohmann::json::exception&) {
    bytes = "\xc0";  // a number beyond a double (1e999)
  }
  return bytes;
}

kernel::Headers random_headers(Random& random) {
  static constexpr std::array<std::string_view, 4> names = {"h", "trace-id", "dlq-original-topic", "\xc3\xa9"};
  kernel::Headers headers;
  for (auto n = random.below(4); n > 0; --n) {
    std::string name(random.one_in(8) ? random_bytes(random, 1 + random.below(4)) : std::string(random.pick(names)));
    if (random.one_in(6)) {
      headers.add_null(std::move(name));
    } else {
      headers.add(std::move(name), random_string(random, 8));
    }
  }
  return headers;
}

/// A record with a random key and headers, `value` and `content_type` (when given) among them.
kernel::jsonl::Record random_record(Random& random, std::string value, std::optional<std::string> content_type) {
  kernel::jsonl::Record record;
  record.topic = "t";
  record.partition = 0;
  record.offset = 1;
  if (!random.one_in(4)) record.key = random_string(random, 8);
  auto headers = random_headers(random);
  const auto at = random.below(headers.size() + 1);
  for (std::size_t i = 0; i <= headers.size(); ++i) {
    if (i == at && content_type) record.headers.add("content-type", *content_type);
    if (i == headers.size()) break;
    if (headers.is_null(i)) {
      record.headers.add_null(headers[i].first);
    } else {
      record.headers.add(headers[i].first, headers[i].second);
    }
  }
  record.value = std::move(value);
  return record;
}

/// How many records come back from their lines other than they went in, by what differs,
/// with the first of them.
struct RoundTrip {
  int differ = 0, keys = 0, values = 0, headers = 0, refused = 0;
  int shown_decoded = 0;  // lines with a decoded `value` and no `value_base64`
  std::string first;

  void check(const kernel::jsonl::Record& record) {
    const auto line = kernel::jsonl::format(record);
    bool same = line.find('\n') == std::string::npos;
    try {
      const auto back = kernel::jsonl::parse_line(line);
      keys += back.key != record.key;
      values += back.value != record.value;
      headers += back.headers != record.headers;
      same = same && back.key == record.key && back.value == record.value && back.headers == record.headers;
    } catch (const kernel::jsonl::ParseError&) {
      ++refused;
      same = false;
    }
    const auto shown = nlohmann::json::parse(line);
    if (shown.contains("value") && !shown["value"].is_string() && !shown.contains("value_base64")) ++shown_decoded;
    if (!same && differ++ == 0) first = "value_base64 " + kernel::jsonl::base64_encode(record.value) + ": " + line;
  }

  std::string summary() const {
    return std::to_string(differ) + " of " + std::to_string(cases) + " differ (key " + std::to_string(keys) +
           ", value " + std::to_string(values) + ", headers " + std::to_string(headers) + ", line refused " +
           std::to_string(refused) + "); the first: " + first;
  }
};

}  // namespace

TEST_CASE("random MessagePack records come back from their lines byte for byte") {
  static constexpr std::array<std::string_view, 3> content_types = {"application/msgpack", "application/x-msgpack",
                                                                    "Application/MsgPack; charset=binary"};
  Random random(seed);
  RoundTrip round_trip;
  for (int i = 0; i < cases; ++i) {
    std::string value;
    if (random.one_in(3)) {
      value = shortest_msgpack(random);
    } else {
      write_msgpack(random, value, 3);
    }
    round_trip.check(random_record(random, std::move(value), std::string(random.pick(content_types))));
  }
  CHECK_MESSAGE(round_trip.differ == 0, round_trip.summary());
  // Many are shown decoded (1381 of 3000), so the check above is not passed by base64 alone.
  CHECK(round_trip.shown_decoded > cases / 4);
}

TEST_CASE("random JSON texts come back from their lines byte for byte") {
  Random random(seed);
  RoundTrip round_trip;
  for (int i = 0; i < cases; ++i) {
    std::string value;
    if (random.one_in(10)) {
      value = random_string(random, 12);  // not JSON, or not even text
    } else {
      write_whitespace(random, value);
      write_json(random, value, 3);
      write_whitespace(random, value);
    }
    std::optional<std::string> content_type;
    if (!random.one_in(3))
      content_type = random.pick(std::array<std::string_view, 2>{"application/json", "text/plain"});
    round_trip.check(random_record(random, std::move(value), content_type));
  }
  CHECK_MESSAGE(round_trip.differ == 0, round_trip.summary());
  // Many are shown as JSON (595 of 3000), so the check above is not passed by strings alone.
  CHECK(round_trip.shown_decoded > cases / 10);
}

}  // namespace jsonl_round_trip_test
