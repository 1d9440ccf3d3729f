"""Protobuf through a schema registry with clients no one here wrote: confluent-kafka-python's
ProtobufSerializer writes orders, protobuf-kernel (Message::protobuf<T>(), Outgoing::protobuf())
checks them, ProtobufDeserializer reads what it wrote; poison values land in the dead-letter
topic each with its reason; a registry that is down delays a message, never loses it.

The registry is the stand-in (tests/tools/schema_registry_standin.py): no registry server is
packaged for these machines. With KAFKA_TEST_SCHEMA_REGISTRY=url the same tests run against a
real registry (the outage test, which needs the stand-in's control, is then skipped).
Needs PROTOBUF_KERNEL, DEV_BROKER and KERNEL_TEST_PROTO_PYTHON (the folder of kernel_test_pb2.py).
"""
import base64
import os
import struct
import sys
import unittest
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
sys.path.insert(0, os.environ.get("KERNEL_TEST_PROTO_PYTHON", "."))
import kernel_harness as kh  # noqa: E402
import kernel_test_pb2  # noqa: E402
import schema_registry_standin  # noqa: E402
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

KERNEL = os.environ.get("PROTOBUF_KERNEL", "")
INPUT, OUTPUT, DLQ = "pb.orders", "pb.checked", "protobuf-kernel.dlq"


class SchemaRegistryInterop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.standin = None
        cls.url = os.environ.get("KAFKA_TEST_SCHEMA_REGISTRY")
        if not cls.url:
            cls.standin, cls.url = schema_registry_standin.serve()
        cls.registry = SchemaRegistryClient({"url": cls.url})
        cls.broker = kh.DevBroker(topics=[INPUT, OUTPUT, DLQ])
        cls.kernel = kh.KernelProcess.on_broker(
            KERNEL, cls.broker.bootstrap, KAFKA_SCHEMA_REGISTRY_URL=cls.url, KAFKA_CONSUMER_MAX_RETRIES=50,
            KERNEL_RETRY_BACKOFF="50ms", KERNEL_RETRY_BACKOFF_MAX="200ms", KERNEL_BREAKER_THRESHOLD=0)
        cls.serializer = ProtobufSerializer(kernel_test_pb2.Order, cls.registry)
        cls.output = kh.TopicReader(cls.broker.bootstrap, OUTPUT)
        cls.dead_letters = kh.TopicReader(cls.broker.bootstrap, DLQ)

    @classmethod
    def tearDownClass(cls):
        cls.output.close()
        cls.dead_letters.close()
        cls.kernel.stop()
        cls.kernel.close()
        cls.broker.stop()
        if cls.standin:
            cls.standin.shutdown()

    def serialize(self, order):
        return self.serializer(order, SerializationContext(INPUT, MessageField.VALUE))

    def outputs_with_key(self, key, count=1):
        def found():
            self.output._consume()
            matching = [m for m in self.output.messages if m.key() == key]
            return matching if len(matching) >= count else None
        return kh.wait_for(found, 30, f"{count} output(s) keyed {key}")

    def dead_letter(self, key):
        def found():
            self.dead_letters._consume()
            return next((m for m in self.dead_letters.messages if m.key() == key), None)
        return kh.wait_for(found, 30, f"the dead letter keyed {key}")

    def test_python_serializer_to_kernel_to_python_deserializer(self):
        key = uuid.uuid4().hex.encode()
        order = kernel_test_pb2.Order(id="o-7", amount_cents=1250, items=["pen", "ink"])
        kh.produce(self.broker.bootstrap, INPUT, [(key, self.serialize(order))])
        [written] = self.outputs_with_key(key)
        self.assertEqual(dict(written.headers())["content-type"], b"application/x-protobuf")
        read = ProtobufDeserializer(kernel_test_pb2.Order)(written.value(),
                                                           SerializationContext(OUTPUT, MessageField.VALUE))
        self.assertEqual((read.id, read.amount_cents, list(read.items)), ("checked-o-7", 2500, ["pen", "ink"]))
        # The kernel registered its output's schema under <topic>-value; the id it wrote names it.
        schema_id = struct.unpack(">I", written.value()[1:5])[0]
        registered = self.registry.get_latest_version(OUTPUT + "-value")
        self.assertEqual(registered.schema_id, schema_id)
        self.assertEqual(registered.schema.schema_type, "PROTOBUF")
        self.assertIn("message Order", self.registry.get_schema(schema_id).schema_str)

    def test_poison_values_are_dead_lettered_each_with_its_reason(self):
        avro_id = self.registry.register_schema("pb.avro-value", Schema('"string"', "AVRO"))
        order_bytes = kernel_test_pb2.Order(id="o-8").SerializeToString()
        valid_header = self.serialize(kernel_test_pb2.Order(id="o-0"))[:6]
        cases = {
            b"magic": (b'{"id": "o-8"}', b"wrong_magic_byte"),
            b"truncated": (b"\x00\x00\x01", b"truncated_payload"),
            b"unknown": (b"\x00" + struct.pack(">I", 987654) + b"\x00" + order_bytes, b"schema_not_found"),
            b"avro": (b"\x00" + struct.pack(">I", avro_id) + b"\x00" + order_bytes, b"schema_mismatch"),
            b"garbage": (valid_header + b"\xff\xff\xff", b"deserialization_error"),
        }
        kh.produce(self.broker.bootstrap, INPUT, [(key, value) for key, (value, _) in cases.items()])
        for key, (value, reason) in cases.items():
            with self.subTest(case=key.decode()):
                letter = self.dead_letter(key)
                headers = dict(letter.headers())
                self.assertEqual(headers["dlq-failure-reason"], reason)
                self.assertEqual(headers["dlq-error-class"], b"permanent")
                self.assertEqual(letter.value(), value)

    def test_registry_down_then_up_retries_and_loses_nothing(self):
        if not self.standin:
            self.skipTest("needs the stand-in's outage control")
        # A schema id the kernel has not checked yet: the Order file as base64 under another subject.
        text = base64.standard_b64encode(kernel_test_pb2.DESCRIPTOR.serialized_pb).decode()
        fresh_id = self.registry.register_schema("pb.outage-" + uuid.uuid4().hex,
                                                 Schema(text + "\n", "PROTOBUF"))
        key = uuid.uuid4().hex.encode()
        value = b"\x00" + struct.pack(">I", fresh_id) + b"\x00" + kernel_test_pb2.Order(id="o-9").SerializeToString()
        self._outage(503)
        try:
            kh.produce(self.broker.bootstrap, INPUT, [(key, value)])
            kh.wait_for(lambda: self.kernel.log_contains("stand-in outage"), 30, "a retry on the registry's 503")
        finally:
            self._outage(0)
        [written] = self.outputs_with_key(key)
        read = ProtobufDeserializer(kernel_test_pb2.Order)(written.value(),
                                                           SerializationContext(OUTPUT, MessageField.VALUE))
        self.assertEqual(read.id, "checked-o-9")
        self.dead_letters.drain(0.3)
        self.assertFalse([m for m in self.dead_letters.messages if m.key() == key])

    def _outage(self, status):
        request = urllib.request.Request(self.url + "/_standin/outage", method="PUT",
                                         data=('{"status": %d}' % status).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            self.assertEqual(answer.status, 200)


if __name__ == "__main__":
    unittest.main()
