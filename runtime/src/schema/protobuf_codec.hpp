#pragma once
// Protobuf through the schema registry: Message::protobuf<T>() decodes (detail::decode_protobuf
// in kernel/message.hpp), Outgoing::protobuf() encodes, and produce() writes the schema id of
// the output's subject into what Outgoing::protobuf() wrote.
#include <cstdint>
#include <optional>
#include <string>

#include "kernel/outgoing.hpp"

namespace kernel::schema {

/// Registers (once per message type and topic, then from a per-thread memo) the schema of an
/// output Outgoing::protobuf() built and writes its id into the value. `output_topic` is the
/// kernel's output topic (prefixed), the one an output without a topic goes to. Throws
/// TransientError (schema_registry_unavailable) when the registry does not answer,
/// PermanentError (schema_mismatch) when it refuses the schema as incompatible, FatalError
/// without a registry.
void register_protobuf_output(Outgoing& output, const std::optional<std::string>& output_topic);

/// Values Message::protobuf<T>() read without a message-index list, as
/// @kafkajs/confluent-schema-registry writes them (the payload right after the schema id, read
/// as the schema's first message); since the process started.
std::uint64_t indexless_protobuf_values() noexcept;

}  // namespace kernel::schema
