#pragma once
// Which message a Protobuf schema from the registry names at a message index: the schema is
// .proto text (what Java and Go serializers register, and what a registry answers) or a
// base64 FileDescriptorProto (what confluent-kafka-python registers).
#include <string>

#include "schema/schema_types.hpp"
#include "schema/wire_format.hpp"

namespace kernel::schema {

/// The full name (`package.Outer.Inner`) of the message at `index` in `schema`, in
/// `full_name`; false with `why` when the schema cannot be read or has no message there.
bool protobuf_message_name(const Schema& schema, const MessageIndex& index, std::string& full_name, std::string& why);

}  // namespace kernel::schema
