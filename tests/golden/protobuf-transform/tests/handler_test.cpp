// Unit tests of the handler: no Kafka, no broker, milliseconds to run.
//   ctest --test-dir build -L unit     or     ./build/order_mapper_handler_test
#include <doctest/doctest.h>  // its main() comes compiled: kernel::doctest_main

#include <kernel/testing.hpp>
#include <kernel/testing_doctest.hpp>
#include <nlohmann/json.hpp>

#include "handler.hpp"
#include "kernel_spec.hpp"
#include "order.pb.h"
#include "test_settings.hpp"

using kernel::testing::call;
using kernel::testing::call_ok;  // fails the test with the outcome's class, reason and message
using kernel::testing::make_message;
using kernel::testing::make_raw_message;
using kernel::testing::require_ok;
using kernel::testing::TestContext;

namespace {

/// The context the handler gets in the kernel: the settings and named outputs of
/// kernel_spec() (src/kernel_spec.cpp), at their defaults; test_settings() gives the required
/// ones a value.
TestContext kernel_context() { return TestContext(order_mapper::kernel_spec(), order_mapper::test_settings()); }

}  // namespace

namespace {

/// A value as the schema registry's serializers frame it: magic byte 0, the schema's id
/// (4 bytes, big-endian), the message's index in its .proto (a list of zigzag varints; [0]
/// is one 0 byte), then the protobuf bytes.
std::string framed(const google::protobuf::Message& value, std::uint32_t schema_id = 1) {
  std::string out{'\0', static_cast<char>(schema_id >> 24), static_cast<char>(schema_id >> 16),
                  static_cast<char>(schema_id >> 8), static_cast<char>(schema_id)};
  const auto index = static_cast<std::uint32_t>(value.GetDescriptor()->index());
  if (index == 0) {
    out += '\0';
  } else {
    out += '\x02';  // one index, zigzag-encoded
    for (auto zigzag = index << 1; zigzag != 0; zigzag >>= 7) {
      out += static_cast<char>((zigzag & 0x7f) | (zigzag > 0x7f ? 0x80 : 0));
    }
  }
  return out + value.SerializeAsString();
}

/// A shop.Order with its first scalar field set: a sample whatever the schema declares.
shop::Order sample() {
  shop::Order value;
  const auto* reflection = value.GetReflection();
  const auto* descriptor = value.GetDescriptor();
  using Field = google::protobuf::FieldDescriptor;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (field->is_repeated()) continue;
    switch (field->cpp_type()) {
      case Field::CPPTYPE_STRING: reflection->SetString(&value, field, "sample-" + field->name()); return value;
      case Field::CPPTYPE_INT32: reflection->SetInt32(&value, field, 7); return value;
      case Field::CPPTYPE_INT64: reflection->SetInt64(&value, field, 7); return value;
      case Field::CPPTYPE_UINT32: reflection->SetUInt32(&value, field, 7); return value;
      case Field::CPPTYPE_UINT64: reflection->SetUInt64(&value, field, 7); return value;
      case Field::CPPTYPE_DOUBLE: reflection->SetDouble(&value, field, 7.5); return value;
      case Field::CPPTYPE_FLOAT: reflection->SetFloat(&value, field, 7.5F); return value;
      case Field::CPPTYPE_BOOL: reflection->SetBool(&value, field, true); return value;
      default: break;
    }
  }
  FAIL("shop.Order has no singular scalar field: write sample() for it");
  return value;
}

}  // namespace

TEST_CASE("a shop.Order goes to the output topic, re-encoded, with the same key") {
  auto context = kernel_context();
  const auto value = sample();

  call_ok(order_mapper::handle, make_raw_message(framed(value), "evt-1"), context);

  REQUIRE(context.produced().size() == 1);
  const auto& output = context.produced().front();
  CHECK(output.topic().empty());  // the kernel's output topic
  CHECK(output.key() == "evt-1");
  // Framed again; the message bytes come last.
  CHECK(output.value().ends_with(value.SerializeAsString()));
}

TEST_CASE("an empty shop.Order is dead-lettered as a validation error") {
  auto context = kernel_context();

  const auto outcome = call(order_mapper::handle, make_raw_message(framed(shop::Order{}), "evt-2"), context);

  CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  CHECK(outcome.reason == kernel::FailureReason::validation_error);
  CHECK(context.produced().empty());
}

TEST_CASE("a value that is not framed protobuf is dead-lettered") {
  auto context = kernel_context();

  const auto outcome = call(order_mapper::handle, make_raw_message("not protobuf", "evt-3"), context);

  CHECK(outcome.kind == kernel::Outcome::Kind::permanent);
  CHECK(outcome.reason == kernel::FailureReason::deserialization_error);
  CHECK(context.produced().empty());
}
