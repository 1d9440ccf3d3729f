#pragma once
/// The schema a --format protobuf or avro kernel is generated from (docs/generator.md,
/// "Message formats"): read once, at generation, and copied into the kernel's schemas/.
/// Everything in it is untrusted: its size is bounded, and a light parser finds only what
/// the templates need (the package and top-level messages of a .proto; the name of an .avsc
/// record), with one line per problem.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace new_kernel {

/// Largest schema read: a message's schema is kilobytes; this is a mistake, not a schema.
inline constexpr std::size_t max_schema_size = std::size_t{256} * 1024;

/// What a .proto declares at its top level.
struct ProtoSummary {
  std::string package;                ///< "shop.orders"; empty without a package statement
  std::vector<std::string> messages;  ///< top-level messages, in file order
};

/// The package and top-level messages of a .proto text (comments and strings skipped, nested
/// messages ignored). Never throws: an empty `messages` is for the caller to report.
ProtoSummary summarize_proto(std::string_view text);

/// The full name ("shop.Order") of an .avsc text's record; empty with `problem` set when the
/// text is not JSON or not a named record.
std::string avro_record_name(std::string_view text, std::string& problem);

struct SchemaFile {
  std::string file_name;  ///< "order.proto": where it lands, schemas/<file_name>
  std::string content;
  std::string message;  ///< the full name of the type the handler uses ("shop.Order")
};

/// Reads and checks the schema of `format` ("protobuf" or "avro") at `path`; `message` is
/// --message (empty: the first message of a .proto, the record of an .avsc). Throws
/// UsageError with one line per problem and its fix.
SchemaFile read_schema(std::string_view format, const std::filesystem::path& path, std::string_view message);

/// Whether `name` is a dotted name of identifiers ("shop.Order", "Order").
bool is_dotted_name(std::string_view name);

}  // namespace new_kernel
