// --format, --schema and --message (docs/generator.md, "Message formats"): every problem one
// line with its fix, exit code 64 (UsageError).
#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>

#include "answers.hpp"
#include "errors.hpp"
#include "schema_file.hpp"

namespace schema_file_test {

using namespace new_kernel;
namespace fs = std::filesystem;

namespace {

const std::vector<PatternInfo> patterns{
    {"consumer", "", false}, {"transform", "", true}, {"enrichment", "", true}, {"batch-sink", "", false}};

Answers transform(std::string format, std::string schema) {
  Answers a;
  a.name = "orders";
  a.input_topics = {"orders"};
  a.output_topic = "orders.out";
  a.format = std::move(format);
  a.schema = std::move(schema);
  return a;
}

/// A directory of its own under the temporary directory, removed at the end of the test.
struct Scratch {
  fs::path root = fs::temp_directory_path() / ("schema-file-test-" + std::to_string(::getpid()));
  Scratch() { fs::create_directories(root); }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }
  fs::path write(const std::string& name, const std::string& content) const {
    std::ofstream(root / name, std::ios::binary) << content;
    return root / name;
  }
};

/// The message of the UsageError read_schema throws; "" when it does not throw.
std::string schema_problem(std::string_view format, const fs::path& path, std::string_view message = "") {
  try {
    read_schema(format, path, message);
  } catch (const UsageError& error) {
    CHECK(error.exit_code() == 64);
    return error.what();
  }
  return "";
}

std::string answer_problems(const Answers& a) {
  try {
    complete_and_check(a, patterns);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "";
}

bool has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

constexpr std::string_view order_proto = R"(syntax = "proto3";
// message Commented { }
/* message AlsoCommented { } */
package shop.orders;
option java_package = "message Quoted {";
message Order {
  string id = 1;
  message Line { string sku = 1; }
  repeated Line lines = 2;
}
enum Status { NEW = 0; }
message Refund { string order_id = 1; }
)";

}  // namespace

TEST_CASE("json is the default format, and needs no schema") {
  const auto completed = complete_and_check(transform("", ""), patterns);
  CHECK(format_of(completed) == "json");
  CHECK_FALSE(has_schema(completed));
}

TEST_CASE("an unknown format is refused with the formats there are") {
  CHECK(has(answer_problems(transform("thrift", "")), "--format thrift: unknown; choose one of json, protobuf, avro"));
}

TEST_CASE("protobuf and avro need --schema") {
  CHECK(has(answer_problems(transform("protobuf", "")), "give --schema FILE (a .proto)"));
  CHECK(has(answer_problems(transform("avro", "")), "give --schema FILE (a .avsc)"));
}

TEST_CASE("--schema without a format that reads it is refused") {
  CHECK(has(answer_problems(transform("", "order.proto")), "--schema order.proto without a format that reads it"));
  CHECK(has(answer_problems(transform("json", "order.proto")), "add --format protobuf"));
}

TEST_CASE("--message needs a schema and a message name") {
  auto json = transform("", "");
  json.message = "Order";
  CHECK(has(answer_problems(json), "--message Order without a schema"));
  auto protobuf = transform("protobuf", "order.proto");
  protobuf.message = "shop..Order";
  CHECK(has(answer_problems(protobuf), "--message shop..Order: not a message name"));
}

TEST_CASE("a schema format with a pattern that reads JSON is refused") {
  auto a = transform("protobuf", "order.proto");
  a.pattern = "enrichment";
  CHECK(has(answer_problems(a), "--format protobuf works with --pattern consumer or transform"));
}

TEST_CASE("the proto summary skips comments, strings and nested messages") {
  const auto summary = summarize_proto(order_proto);
  CHECK(summary.package == "shop.orders");
  CHECK(summary.messages == std::vector<std::string>{"Order", "Refund"});
}

TEST_CASE("the handler reads the first message of a .proto, or the one --message names") {
  Scratch scratch;
  const auto path = scratch.write("order.proto", std::string(order_proto));
  const auto first = read_schema("protobuf", path, "");
  CHECK(first.file_name == "order.proto");
  CHECK(first.message == "shop.orders.Order");
  CHECK(first.content == order_proto);
  CHECK(read_schema("protobuf", path, "Refund").message == "shop.orders.Refund");
  CHECK(read_schema("protobuf", path, "shop.orders.Refund").message == "shop.orders.Refund");
  CHECK(has(schema_problem("protobuf", path, "Line"),
            "--message Line: order.proto has no such top-level message; "
            "choose one of Order, Refund"));
}

TEST_CASE("a .proto without a top-level message is refused") {
  Scratch scratch;
  const auto path = scratch.write("empty.proto", "syntax = \"proto3\";\n// message Order {}\nenum A { B = 0; }\n");
  CHECK(has(schema_problem("protobuf", path), "declares no top-level message"));
}

TEST_CASE("a missing, non-regular, misnamed or too large schema file is refused") {
  Scratch scratch;
  CHECK(has(schema_problem("protobuf", scratch.root / "absent.proto"), "no such file"));
  fs::create_directories(scratch.root / "dir.proto");
  CHECK(has(schema_problem("protobuf", scratch.root / "dir.proto"), "not a regular file"));
  CHECK(has(schema_problem("protobuf", scratch.write("order.avsc", "{}")), "needs a .proto file"));
  CHECK(has(schema_problem("avro", scratch.write("my order.avsc", "{}")), "needs a .avsc file"));
  const auto large = scratch.write("large.proto", std::string(max_schema_size + 1, ' '));
  CHECK(has(schema_problem("protobuf", large), "larger than 256 KiB"));
}

TEST_CASE("an unreadable schema file is refused") {
  if (::geteuid() == 0) return;  // root reads every file
  Scratch scratch;
  const auto path = scratch.write("locked.proto", std::string(order_proto));
  fs::permissions(path, fs::perms::none);
  CHECK(has(schema_problem("protobuf", path), "cannot be read"));
}

TEST_CASE("an .avsc names its record with its namespace") {
  Scratch scratch;
  const auto path = scratch.write("order.avsc", R"({"type": "record", "name": "Order", "namespace": "shop",
    "fields": [{"name": "id", "type": "string"}]})");
  CHECK(read_schema("avro", path, "").message == "shop.Order");
  CHECK(has(schema_problem("avro", path, "Other"), "--message Other: order.avsc declares the record shop.Order"));
}

TEST_CASE("an .avsc that is not JSON or not a named record is refused") {
  Scratch scratch;
  CHECK(has(schema_problem("avro", scratch.write("a.avsc", "{not json")), "is not JSON"));
  CHECK(has(schema_problem("avro", scratch.write("b.avsc", R"(["null", "string"])")), "is not an Avro record schema"));
  CHECK(has(schema_problem("avro", scratch.write("c.avsc", R"({"type": "record", "fields": []})")),
            "without a valid \"name\""));
  CHECK(has(schema_problem("avro", scratch.write("d.avsc", std::string(100, '[') + std::string(100, ']'))),
            "is not JSON"));
}

}  // namespace schema_file_test
