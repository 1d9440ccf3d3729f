"""kafkajs (@kafkajs/confluent-schema-registry) on both sides of a kernel, through the schema
registry stand-in: the Node peer writes orders, avro-kernel (Message::avro(), Outgoing::avro())
or protobuf-kernel (Message::protobuf<T>(), Outgoing::protobuf()) checks them, the Node peer
reads what the kernel wrote. Avro values that are not what they claim land in the dead-letter
topic, each with its reason. Needs NODE_PEER, AVRO_KERNEL, PROTOBUF_KERNEL and DEV_BROKER."""
import os
import struct
import sys
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import kernel_harness as kh  # noqa: E402
import node_peer  # noqa: E402
import schema_registry_standin  # noqa: E402
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient  # noqa: E402

ORDER_SCHEMA = """{"type": "record", "name": "Order", "namespace": "shop", "fields": [
  {"name": "id", "type": "string"},
  {"name": "qty", "type": "int"},
  {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
  {"name": "tags", "type": {"type": "array", "items": "string"}},
  {"name": "note", "type": ["null", "string"], "default": null}]}"""
with open(os.path.join(HERE, "..", "data", "kernel_test.proto")) as proto:
    ORDER_PROTO = proto.read()
AVRO_IN, AVRO_OUT, AVRO_DLQ = "avro.orders", "avro.checked", "avro-kernel.dlq"
PB_IN, PB_OUT = "pb.orders", "pb.checked"


class NodePeersAroundKernels(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.standin, cls.url = schema_registry_standin.serve()
        cls.registry = SchemaRegistryClient({"url": cls.url})
        cls.broker = kh.DevBroker(topics=[AVRO_IN, AVRO_OUT, AVRO_DLQ, PB_IN, PB_OUT, "protobuf-kernel.dlq"])
        # kafkajs reads no snappy (the kernel's default) without a codec package: gzip it reads.
        settings = dict(KAFKA_SCHEMA_REGISTRY_URL=cls.url, KERNEL_BREAKER_THRESHOLD=0, KAFKA_PRODUCER_COMPRESSION="gzip")
        cls.kernels = [kh.KernelProcess.on_broker(os.environ["AVRO_KERNEL"], cls.broker.bootstrap, **settings),
                       kh.KernelProcess.on_broker(os.environ["PROTOBUF_KERNEL"], cls.broker.bootstrap, **settings)]

    @classmethod
    def tearDownClass(cls):
        for kernel in cls.kernels:
            kernel.stop()
            kernel.close()
        cls.broker.stop()
        cls.standin.shutdown()
        cls.standin.server_close()

    def test_avro_kafkajs_to_kernel_to_kafkajs(self):
        orders = [{"id": "o-1", "qty": 1, "status": "NEW", "tags": ["a"], "note": None},
                  {"id": "o-2", "qty": 2, "status": "PAID", "tags": [], "note": "fragile"}]
        node_peer.produce(self.broker.bootstrap, self.url, AVRO_IN, "avro", ORDER_SCHEMA, orders)
        read = node_peer.consume(self.broker.bootstrap, self.url, AVRO_OUT, 2, timeout=25)
        self.assertEqual([line.get("error") for line in read], [None, None])
        self.assertEqual(sorted((line["value"] for line in read), key=lambda order: order["id"]),
                         [dict(order, id="checked-" + order["id"], qty=order["qty"] * 2) for order in orders])
        self.assertEqual(read[0]["headers"].get("content-type"), "application/avro")
        # The kernel registered its own schema under <output topic>-value.
        self.assertEqual(self.registry.get_latest_version(AVRO_OUT + "-value").schema.schema_type, "AVRO")

    def test_protobuf_kafkajs_without_message_index_to_kernel_to_kafkajs(self):
        node_peer.produce(self.broker.bootstrap, self.url, PB_IN, "protobuf", ORDER_PROTO,
                          [{"id": "o-7", "amountCents": 1250, "items": ["pen", "ink"]}])
        [written] = kh.read_topic(self.broker.bootstrap, PB_IN, timeout=20)
        self.assertEqual(written.value()[5:6], b"\x0a")  # kafkajs: field 1's tag right after the id, no index list
        [line] = node_peer.consume(self.broker.bootstrap, self.url, PB_OUT, 1, timeout=25)
        self.assertIsNone(line.get("error"))
        self.assertEqual((line["value"]["id"], str(line["value"]["amountCents"]), line["value"]["items"]),
                         ("checked-o-7", "2500", ["pen", "ink"]))

    def test_avro_poison_values_are_dead_lettered_each_with_its_reason(self):
        avro_id = self.registry.register_schema("poison." + uuid.uuid4().hex + "-value", Schema(ORDER_SCHEMA, "AVRO"))
        proto_id = self.registry.register_schema("poison.pb-value", Schema(ORDER_PROTO, "PROTOBUF"))
        order = b"\x06o-1\x02\x00\x00\x00"  # id "o-1", qty 1, NEW, no tags, note null
        header = b"\x00" + struct.pack(">I", avro_id)
        cases = {
            b"magic": (b'{"id": "o-1"}', b"wrong_magic_byte"),
            b"short-frame": (b"\x00\x00\x01", b"truncated_payload"),
            b"short-value": (header + order[:3], b"truncated_payload"),
            b"unknown": (b"\x00" + struct.pack(">I", 987654) + order, b"schema_not_found"),
            b"protobuf-id": (b"\x00" + struct.pack(">I", proto_id) + order, b"schema_mismatch"),
            b"corrupt": (header + b"\x01", b"schema_mismatch"),  # a string of length -1
            b"left-over": (header + order + b"\x00", b"schema_mismatch"),
        }
        kh.produce(self.broker.bootstrap, AVRO_IN, [(key, value) for key, (value, _) in cases.items()])
        with kh.TopicReader(self.broker.bootstrap, AVRO_DLQ) as dead_letters:
            def all_there():
                dead_letters._consume()
                found = {m.key(): m for m in dead_letters.messages if m.key() in cases}
                return found if len(found) == len(cases) else None
            found = kh.wait_for(all_there, 30, "a dead letter for each poison value")
        for key, (value, reason) in cases.items():
            with self.subTest(case=key.decode()):
                headers = dict(found[key].headers())
                self.assertEqual(headers["dlq-failure-reason"], reason)
                self.assertEqual(headers["dlq-error-class"], b"permanent")
                self.assertEqual(found[key].value(), value)


if __name__ == "__main__":
    unittest.main()
