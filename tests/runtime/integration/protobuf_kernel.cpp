// A kernel for the schema registry's process-level test (test_schema_registry.py): reads a
// kernel_test.Order in Confluent's wire format through the registry (Message::protobuf<T>())
// and writes it back checked, the same way (Outgoing::protobuf()): id prefixed "checked-", the
// amount doubled. (An Order, the file's first message: confluent-kafka-python 1.7's reader
// takes the message index as plain varints, which agree with the zig-zag ones only for the
// first message; docs/interop.md.) Every failure of the
// decode is the runtime's: the test checks each lands in the dead-letter topic with its reason.
#include <kernel/kernel.hpp>

#include "kernel_test.pb.h"

namespace {

void handle(const kernel::Message& message, kernel::Context& context) {
  auto order = message.protobuf<kernel_test::Order>();
  order.set_id("checked-" + order.id());
  order.set_amount_cents(order.amount_cents() * 2);
  context.produce(kernel::Outgoing{}.key(message.key()).protobuf(order));
}

}  // namespace

int main(int argc, char** argv) {
  kernel::KernelSpec spec;
  spec.name = "protobuf-kernel";
  spec.input_topics = {"pb.orders"};
  spec.output_topic = "pb.checked";
  spec.handler = handle;
  return kernel::run(spec, argc, argv);
}
