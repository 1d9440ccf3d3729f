// MessagePack payloads: msgpack(), decode() by content-type, as<T>() for both formats,
// Outgoing::msgpack(), the testing kit and JSON Lines.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "kernel/errors.hpp"
#include "kernel/jsonl.hpp"
#include "kernel/message.hpp"
#include "kernel/outgoing.hpp"
#include "kernel/testing.hpp"

namespace message_msgpack_test {

namespace {

struct Order {
  std::string id;
  int qty = 0;
  std::vector<double> prices;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Order, id, qty, prices)

const nlohmann::json order = {{"id", "o-1"}, {"qty", 3}, {"prices", {1.5, 2.25}}};

std::string encoded(const nlohmann::json& document) {
  std::string bytes;
  nlohmann::json::to_msgpack(document, bytes);
  return bytes;
}

/// The PermanentError `call` throws (and FAIL if none).
template <class Call>
kernel::PermanentError permanent_error(Call call) {
  try {
    call();
  } catch (const kernel::PermanentError& error) {
    return error;
  }
  FAIL("expected a PermanentError");
  return kernel::PermanentError("unreachable");
}

}  // namespace

TEST_CASE("a MessagePack value round-trips: Outgoing::msgpack, then msgpack(), decode() and as<T>()") {
  const auto out = kernel::Outgoing{}.msgpack(order);
  CHECK(out.content_type() == kernel::ContentType::msgpack);
  CHECK(kernel::content_type_header(out.content_type()) == "application/msgpack");
  CHECK(out.value() == encoded(order));
  CHECK(out.value().size() < order.dump().size());

  const auto message = kernel::testing::make_raw_message(out.value(), "k", {{"content-type", "application/msgpack"}});
  CHECK(message.msgpack() == order);
  CHECK(message.decode() == order);
  const auto typed = message.as<Order>();
  CHECK(typed.id == "o-1");
  CHECK(typed.qty == 3);
  CHECK(typed.prices == std::vector<double>{1.5, 2.25});
  CHECK(message.value() == out.value());  // the raw bytes stay as they came
}

TEST_CASE("decode() and as<T>() follow the content-type header") {
  SUBCASE("absent or application/json: JSON") {
    for (const auto& headers : {kernel::Headers{}, kernel::Headers{{"content-type", "application/json"}},
                                kernel::Headers{{"content-type", "Application/JSON; charset=utf-8"}}}) {
      const auto message = kernel::testing::make_message(order, std::nullopt, headers);
      CHECK(message.decode() == order);
      CHECK(message.as<Order>().qty == 3);
    }
  }
  SUBCASE("application/msgpack and application/x-msgpack: MessagePack") {
    for (const auto* type : {"application/msgpack", "application/x-msgpack", " application/msgpack ; v=1"}) {
      const auto message = kernel::testing::make_raw_message(encoded(order), std::nullopt, {{"content-type", type}});
      CHECK(message.decode() == order);
      CHECK(message.as<Order>().id == "o-1");
    }
  }
  SUBCASE("any other type: a deserialization_error naming it") {
    const auto message =
        kernel::testing::make_raw_message(order.dump(), std::nullopt, {{"content-type", "application/avro"}});
    for (const auto& error :
         {permanent_error([&] { (void)message.decode(); }), permanent_error([&] { (void)message.as<Order>(); })}) {
      CHECK(error.reason() == kernel::FailureReason::deserialization_error);
      CHECK(std::string(error.what()) ==
            "content-type \"application/avro\" has no decoder: expected application/json (or no content-type) or "
            "application/msgpack; read value() for other payloads");
    }
    CHECK(message.json() == order);  // json() reads JSON whatever the header says
  }
}

TEST_CASE("a value that is not MessagePack is a deserialization_error saying so") {
  const kernel::Headers msgpack{{"content-type", "application/msgpack"}};
  SUBCASE("truncated") {
    auto bytes = encoded(order);
    bytes.pop_back();
    const auto message = kernel::testing::make_raw_message(bytes, std::nullopt, msgpack);
    const auto error = permanent_error([&] { (void)message.as<Order>(); });
    CHECK(error.reason() == kernel::FailureReason::deserialization_error);
    CHECK(std::string(error.what()).starts_with("value is not MessagePack: "));
    CHECK(std::string(error.what()).find("unexpected end of input") != std::string::npos);
  }
  SUBCASE("JSON text under a msgpack content-type: bytes after the first value") {
    const auto message = kernel::testing::make_raw_message("12", std::nullopt, msgpack);
    const auto error = permanent_error([&] { (void)message.decode(); });
    CHECK(error.reason() == kernel::FailureReason::deserialization_error);
    CHECK(std::string(error.what()).starts_with("value is not MessagePack: "));
  }
  SUBCASE("empty (a null value)") {
    const auto message = kernel::testing::make_raw_message("", std::nullopt, msgpack);
    CHECK(permanent_error([&] { (void)message.msgpack(); }).reason() == kernel::FailureReason::deserialization_error);
  }
  SUBCASE("nested deeper than max_json_depth") {
    // fixarray of one element, kernel::max_json_depth + 1 times, around a 0.
    const auto bytes = std::string(kernel::max_json_depth + 1, '\x91') + std::string(1, '\0');
    const auto message = kernel::testing::make_raw_message(bytes, std::nullopt, msgpack);
    const auto error = permanent_error([&] { (void)message.msgpack(); });
    CHECK(error.reason() == kernel::FailureReason::deserialization_error);
    CHECK(std::string(error.what()) ==
          "value is not MessagePack: JSON nested deeper than 512 levels (kernel::max_json_depth)");
    const auto at_limit = kernel::testing::make_raw_message(
        std::string(kernel::max_json_depth, '\x91') + std::string(1, '\0'), std::nullopt, msgpack);
    CHECK(at_limit.msgpack().is_array());
  }
}

TEST_CASE("as<T>() names the field a MessagePack document fails on, as for JSON") {
  const auto message =
      kernel::testing::make_msgpack_message({{"id", 7}, {"qty", 3}, {"prices", nlohmann::json::array()}});
  const auto error = permanent_error([&] { (void)message.as<Order>(); });
  CHECK(error.reason() == kernel::FailureReason::validation_error);
  CHECK(std::string(error.what()) == "field \"id\": expected string, got number");
}

TEST_CASE("the testing kit builds MessagePack messages with their content-type") {
  const auto message = kernel::testing::make_msgpack_message(order, "k-1");
  CHECK(message.header("content-type") == "application/msgpack");
  CHECK(message.value() == encoded(order));
  CHECK(message.decode() == order);
  const auto own_type =
      kernel::testing::make_msgpack_message(order, std::nullopt, {{"content-type", "application/x-msgpack"}});
  CHECK(own_type.headers().size() == 1);
  CHECK(own_type.header("content-type") == "application/x-msgpack");
}

TEST_CASE("JSON Lines shows a MessagePack value as the JSON it decodes to, and reads it back encoded") {
  kernel::jsonl::Record record;
  record.topic = "orders";
  record.partition = 0;
  record.value = encoded(order);
  record.headers.add("content-type", "application/msgpack");
  const auto line = kernel::jsonl::format(record);
  CHECK(line.find(
            R"("headers":{"content-type":"application/msgpack"},"value":{"id":"o-1","prices":[1.5,2.25],"qty":3}})") !=
        std::string::npos);
  CHECK(kernel::jsonl::parse_line(line).value == record.value);

  SUBCASE("a string value under a msgpack content-type is encoded too") {
    const auto read = kernel::jsonl::parse_line(R"({"headers":{"content-type":"application/msgpack"},"value":"hi"})");
    CHECK(read.value == encoded("hi"));
  }
  SUBCASE("value_base64 gives the bytes exactly") {
    const auto read =
        kernel::jsonl::parse_line(R"({"headers":{"content-type":"application/msgpack"},"value_base64":")" +
                                  kernel::jsonl::base64_encode("\xc1") + R"("})");
    CHECK(read.value == "\xc1");
  }
  SUBCASE("bytes that do not decode are shown as value_base64") {
    record.value = "\xc1";  // never used in MessagePack
    const auto shown = kernel::jsonl::format(record);
    CHECK(shown.find(R"("value_base64":"wQ==")") != std::string::npos);
    CHECK(kernel::jsonl::parse_line(shown).value == "\xc1");
  }
}

}  // namespace message_msgpack_test
