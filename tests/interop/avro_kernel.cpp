// A kernel for the Node peer tests (test_node_kernels.py): reads an order in Avro through the
// schema registry (Message::avro(), the writer schema by the value's id) and writes it back
// checked, in Avro with its own schema (Outgoing::avro()): id prefixed "checked-", qty doubled.
// Every failure of the decode is the runtime's: the test checks each lands in the dead-letter
// topic with its reason. Links kernel::avro, as every kernel that reads or writes Avro does.
#include <kernel/kernel.hpp>

namespace {

const std::string order_schema = R"({"type": "record", "name": "Order", "namespace": "shop", "fields": [
  {"name": "id", "type": "string"},
  {"name": "qty", "type": "int"},
  {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
  {"name": "tags", "type": {"type": "array", "items": "string"}},
  {"name": "note", "type": ["null", "string"], "default": null}]})";

void handle(const kernel::Message& message, kernel::Context& context) {
  auto order = message.avro();
  order["id"] = "checked-" + order["id"].get<std::string>();
  order["qty"] = order["qty"].get<int>() * 2;
  context.produce(kernel::Outgoing{}.key(message.key()).avro(order, order_schema));
}

}  // namespace

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "avro-kernel";
  spec.input_topics = {"avro.orders"};
  spec.output_topic = "avro.checked";
  spec.handler = handle;
  return kernel::run(spec, argc, argv);
}
