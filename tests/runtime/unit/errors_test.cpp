#include <doctest/doctest.h>

#include <stdexcept>

#include "kernel/errors.hpp"
#include "kernel/handler.hpp"
#include "kernel/testing.hpp"

using kernel::ErrorClass;

TEST_CASE("plain messages are classified as transient or permanent") {
  SUBCASE("transient phrases, any case") {
    for (const char* text : {"connect: Connection refused", "read timeout", "context deadline exceeded",
                             "Network is unreachable", "write: broken pipe", "i/o timeout",
                             "Temporary failure in name resolution", "request timed out"}) {
      CAPTURE(text);
      CHECK(kernel::classify_message(text) == ErrorClass::transient);
    }
  }
  SUBCASE("anything else is permanent") {
    for (const char* text : {"invalid argument", "key not found", "", "division by zero"}) {
      CAPTURE(text);
      CHECK(kernel::classify_message(text) == ErrorClass::permanent);
    }
  }
}

TEST_CASE("exceptions become outcomes with their class, reason and type name") {
  using Kind = kernel::Outcome::Kind;
  auto outcome_of = [](auto thrower) {
    kernel::testing::TestContext context;
    auto message = kernel::testing::make_message({{"a", 1}});
    return kernel::testing::call(kernel::Handler(thrower), message, context);
  };
  auto transient = outcome_of([](const kernel::Message&, kernel::Context&) {
    throw kernel::TransientError("database busy");
  });
  CHECK(transient.kind == Kind::transient);
  CHECK(transient.error_type == "kernel::TransientError");
  CHECK(transient.message == "database busy");

  auto business = outcome_of([](const kernel::Message&, kernel::Context&) {
    throw kernel::BusinessError("order already shipped");
  });
  CHECK(business.kind == Kind::business);

  auto fatal = outcome_of([](const kernel::Message&, kernel::Context&) { throw kernel::FatalError("x"); });
  CHECK(fatal.kind == Kind::fatal);

  auto runtime = outcome_of([](const kernel::Message&, kernel::Context&) {
    throw std::runtime_error("upstream: connection refused");
  });
  CHECK(runtime.kind == Kind::transient);
  CHECK(runtime.error_type == "std::runtime_error");

  auto range = outcome_of([](const kernel::Message&, kernel::Context&) { throw std::out_of_range("bad index"); });
  CHECK(range.kind == Kind::permanent);
  CHECK(range.reason == kernel::FailureReason::processing_error);
  CHECK(range.error_type == "std::out_of_range");

  auto deserialization = outcome_of([](const kernel::Message&, kernel::Context&) {
    auto bad = kernel::testing::make_raw_message("not json");
    (void)bad.json();
  });
  CHECK(deserialization.kind == Kind::permanent);
  CHECK(deserialization.reason == kernel::FailureReason::deserialization_error);
  CHECK(deserialization.message.find("parse error") != std::string::npos);
}

struct Order {
  int id = 0;
  std::string item;
};
void from_json(const nlohmann::json& j, Order& order) {
  j.at("id").get_to(order.id);
  j.at("item").get_to(order.item);
}

TEST_CASE("as<T>() gives a typed payload, or a validation_error") {
  auto good = kernel::testing::make_message({{"id", 7}, {"item", "book"}});
  auto order = good.as<Order>();
  CHECK(order.id == 7);
  CHECK(order.item == "book");

  auto missing = kernel::testing::make_message({{"id", 7}});
  try {
    (void)missing.as<Order>();
    FAIL("expected a PermanentError");
  } catch (const kernel::PermanentError& error) {
    CHECK(error.reason() == kernel::FailureReason::validation_error);
    CHECK(std::string(error.what()).find("item") != std::string::npos);
  }
}
