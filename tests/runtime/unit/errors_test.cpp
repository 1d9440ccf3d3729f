#include <doctest/doctest.h>

#include <ios>
#include <set>
#include <stdexcept>
#include <system_error>

#include "kernel/errors.hpp"
#include "kernel/handler.hpp"
#include "kernel/testing.hpp"

namespace errors_test {

using kernel::ErrorClass;

TEST_CASE("plain messages are classified as transient or permanent") {
  SUBCASE("transient phrases, any case") {
    for (const char* text :
         {"connect: Connection refused", "read timeout", "context deadline exceeded", "Network is unreachable",
          "write: broken pipe", "i/o timeout", "Temporary failure in name resolution", "request timed out"}) {
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

TEST_CASE("the phrases match as whole words only") {
  SUBCASE("inside a longer word they do not count") {
    for (const char* text : {"disconnection refused", "connection refusedness", "timeouts exceeded the quota",
                             "read_timeout=5 is invalid", "fixed the broken pipeline", "untimed out"}) {
      CAPTURE(text);
      CHECK(kernel::classify_message(text) == ErrorClass::permanent);
    }
  }
  SUBCASE("punctuation, digits' neighbours and the ends of the text are word boundaries") {
    for (const char* text : {"Timeout", "timeout: 5 s", "(connection reset by peer)", "rpc error: DEADLINE EXCEEDED.",
                             "dial tcp 10.0.0.1:5432: i/o timeout", "Temporary failure in name resolution"}) {
      CAPTURE(text);
      CHECK(kernel::classify_message(text) == ErrorClass::transient);
    }
  }
}

namespace {
struct DriverDisconnected : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct PoolExhausted : DriverDisconnected {
  using DriverDisconnected::DriverDisconnected;
};
}  // namespace

TEST_CASE("plain exceptions are classified by type before their message") {
  SUBCASE("a system_error with a network errno is transient whatever its text") {
    for (const auto errc :
         {std::errc::connection_refused, std::errc::connection_reset, std::errc::timed_out,
          std::errc::network_unreachable, std::errc::broken_pipe, std::errc::resource_unavailable_try_again}) {
      const std::system_error error(std::make_error_code(errc), "query");
      CAPTURE(error.what());
      CHECK(kernel::classify_exception(error) == ErrorClass::transient);
    }
    // The same errno in the system category, as std::system_error(errno, std::system_category()) gives it.
    CHECK(kernel::classify_exception(std::system_error(ECONNREFUSED, std::system_category(), "x")) ==
          ErrorClass::transient);
  }
  SUBCASE("a system_error with another errno falls back to its message") {
    CHECK(kernel::classify_exception(std::system_error(std::make_error_code(std::errc::permission_denied), "open")) ==
          ErrorClass::permanent);
    CHECK(kernel::classify_exception(std::system_error(std::make_error_code(std::errc::invalid_argument),
                                                       "timed out")) == ErrorClass::transient);
  }
  SUBCASE("types the kernel registers are transient, with the types derived from them") {
    kernel::TransientTypes registered;
    registered.add<DriverDisconnected>();
    CHECK(kernel::classify_exception(DriverDisconnected("gone"), registered) == ErrorClass::transient);
    CHECK(kernel::classify_exception(PoolExhausted("no slot"), registered) == ErrorClass::transient);
    CHECK(kernel::classify_exception(DriverDisconnected("gone")) == ErrorClass::permanent);  // not registered
    CHECK(kernel::classify_exception(std::runtime_error("gone"), registered) == ErrorClass::permanent);
  }
  SUBCASE("a kernel's registered types reach the outcome through the chain") {
    kernel::TransientTypes registered;
    registered.add<DriverDisconnected>();
    kernel::Chain chain([](const kernel::Message&, kernel::Context&) { throw PoolExhausted("no slot"); }, {},
                        registered);
    kernel::testing::TestContext context;
    const auto outcome = chain(kernel::testing::make_message({{"a", 1}}), context);
    CHECK(outcome.kind == kernel::Outcome::Kind::transient);
    CHECK(outcome.reason == kernel::FailureReason::processing_error);
  }
}

TEST_CASE("exceptions become outcomes with their class, reason and type name") {
  using Kind = kernel::Outcome::Kind;
  auto outcome_of = [](auto thrower) {
    kernel::testing::TestContext context;
    auto message = kernel::testing::make_message({{"a", 1}});
    return kernel::testing::call(kernel::Handler(thrower), message, context);
  };
  auto transient =
      outcome_of([](const kernel::Message&, kernel::Context&) { throw kernel::TransientError("database busy"); });
  CHECK(transient.kind == Kind::transient);
  CHECK(transient.error_type == "kernel::TransientError");
  CHECK(transient.message == "database busy");

  auto business = outcome_of(
      [](const kernel::Message&, kernel::Context&) { throw kernel::BusinessError("order already shipped"); });
  CHECK(business.kind == Kind::business);

  auto fatal = outcome_of([](const kernel::Message&, kernel::Context&) { throw kernel::FatalError("x"); });
  CHECK(fatal.kind == Kind::fatal);

  auto runtime = outcome_of(
      [](const kernel::Message&, kernel::Context&) { throw std::runtime_error("upstream: connection refused"); });
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

TEST_CASE("nlohmann exceptions in a handler are validation_errors saying what was expected, with readable types") {
  auto outcome_of = [](const nlohmann::json& value, auto reader) {
    kernel::testing::TestContext context;
    auto message = kernel::testing::make_message(value);
    return kernel::testing::call(
        kernel::Handler([reader](const kernel::Message& m, kernel::Context&) { (void)reader(m.json()); }), message,
        context);
  };
  SUBCASE("a field of the wrong type") {
    auto outcome = outcome_of({{"id", 7}}, [](const nlohmann::json& d) { return d["id"].get<std::string>(); });
    CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
    CHECK(outcome.reason == kernel::FailureReason::validation_error);
    CHECK(outcome.message == "expected string, got number");
    CHECK(outcome.error_type == "nlohmann::json::type_error");
  }
  SUBCASE("a nested field, through value()") {
    auto outcome = outcome_of({{"items", {{{"qty", 1}}, {{"qty", "two"}}}}},
                              [](const nlohmann::json& d) { return d["items"][1].value("qty", 0); });
    CHECK(outcome.reason == kernel::FailureReason::validation_error);
    CHECK(outcome.message == "expected number, got string");
  }
  SUBCASE("a missing field") {
    auto outcome = outcome_of({{"customer", {{"name", "Ada"}}}},
                              [](const nlohmann::json& d) { return d.at("customer").at("zip"); });
    CHECK(outcome.reason == kernel::FailureReason::validation_error);
    CHECK(outcome.message == "field \"zip\": missing");
    CHECK(outcome.error_type == "nlohmann::json::out_of_range");
  }
  SUBCASE("JSON the handler parses itself") {
    auto outcome = outcome_of({{"inner", "{oops"}}, [](const nlohmann::json& d) {
      return nlohmann::json::parse(d["inner"].get<std::string>());
    });
    CHECK(outcome.reason == kernel::FailureReason::deserialization_error);
    CHECK(outcome.error_type == "nlohmann::json::parse_error");
  }
}

TEST_CASE("as<T>() says which field is missing, or what type was expected") {
  CHECK_THROWS_WITH_AS((void)kernel::testing::make_message({{"id", 7}}).as<Order>(), "field \"item\": missing",
                       kernel::PermanentError);
  CHECK_THROWS_WITH_AS((void)kernel::testing::make_message({{"id", "seven"}, {"item", "book"}}).as<Order>(),
                       "field \"id\": expected number, got string", kernel::PermanentError);
}

TEST_CASE("nlohmann messages made readable, with the field path JSON_DIAGNOSTICS adds when present") {
  using kernel::detail::describe_json_error;
  CHECK(describe_json_error("[json.exception.type_error.302] (/id) type must be string, but is number") ==
        "field \"id\": expected string, got number");
  CHECK(describe_json_error("[json.exception.out_of_range.403] (/customer) key 'zip' not found") ==
        "field \"customer.zip\": missing");
  CHECK(describe_json_error("[json.exception.type_error.302] type must be string, but is number") ==
        "expected string, got number");
  CHECK(describe_json_error("[json.exception.out_of_range.403] key 'id' not found") == "field \"id\": missing");
  CHECK(describe_json_error("[json.exception.out_of_range.401] (/a~1b/0) array index 3 is out of range") ==
        "field \"a/b[0]\": array index 3 is out of range");
}

TEST_CASE("exception type names are readable, without ABI namespaces") {
  auto name_of = [](auto thrower) {
    try {
      thrower();
    } catch (const std::exception& error) {
      return kernel::exception_type_name(error);
    }
    return std::string("nothing thrown");
  };
  CHECK(name_of([] { (void)nlohmann::json(1).at("x"); }) == "nlohmann::json::type_error");
  CHECK(name_of([] { throw std::ios_base::failure("io"); }) == "std::ios_base::failure");
  CHECK(name_of([] { throw std::out_of_range("x"); }) == "std::out_of_range");
}

TEST_CASE("a TransientError's reason says why it was retried in the message that reaches the dead letter") {
  kernel::testing::TestContext context;
  auto message = kernel::testing::make_message({{"a", 1}});
  auto timeout =
      kernel::testing::call(kernel::Handler([](const kernel::Message&, kernel::Context&) {
                              throw kernel::TransientError("inventory took 5 s", kernel::FailureReason::timeout);
                            }),
                            message, context);
  CHECK(timeout.kind == kernel::Outcome::Kind::transient);
  CHECK(timeout.reason == kernel::FailureReason::timeout);
  CHECK(timeout.message == "timeout: inventory took 5 s");
  auto plain = kernel::testing::call(
      kernel::Handler([](const kernel::Message&, kernel::Context&) { throw kernel::TransientError("database busy"); }),
      message, context);
  CHECK(plain.message == "database busy");  // the default reason adds nothing
}

TEST_CASE("every failure reason is listed once, each with its own name (kernel-admin dlq --reason)") {
  std::set<std::string_view> names;
  for (const auto reason : kernel::all_failure_reasons) names.insert(kernel::to_string(reason));
  CHECK(names.size() == kernel::all_failure_reasons.size());
  CHECK(names.contains("deserialization_error"));
  CHECK(names.contains("topic_not_allowed"));
}

}  // namespace errors_test
