#pragma once
// Avro outputs through the schema registry: Outgoing::avro() (kernel::avro) encodes and leaves
// the schema id to write; produce() registers the schema here, in the runtime, since that needs
// the registry but not avro-c (Protobuf's counterpart is register_protobuf_output).
#include <optional>
#include <string>

#include "kernel/outgoing.hpp"

namespace kernel::schema {

/// Registers (once per schema text and topic, then from a per-thread memo) the Avro schema of
/// an output Outgoing::avro() built, under `<topic>-value` or the record's full name
/// (KAFKA_SCHEMA_REGISTRY_SUBJECT_STRATEGY=record), and writes its id into the value. Throws
/// as register_protobuf_output does.
void register_avro_output(Outgoing& output, const std::optional<std::string>& output_topic);

}  // namespace kernel::schema
