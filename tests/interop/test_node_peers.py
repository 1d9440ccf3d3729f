"""kafkajs with @kafkajs/confluent-schema-registry against the embedded broker (librdkafka's mock
cluster) and the schema registry stand-in: what it writes is Confluent's wire format, and it
reads back what it wrote."""
import os
import struct
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "harness"))
sys.path.insert(0, os.path.join(here, "..", "tools"))
import kernel_harness as kh  # noqa: E402
import node_peer  # noqa: E402
import schema_registry_standin  # noqa: E402

ORDER_SCHEMA = """{"type": "record", "name": "Order", "namespace": "shop", "fields": [
  {"name": "id", "type": "string"},
  {"name": "qty", "type": "int"},
  {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
  {"name": "tags", "type": {"type": "array", "items": "string"}},
  {"name": "note", "type": ["null", "string"], "default": null}]}"""
ORDERS = [{"id": "o-1", "qty": 1, "status": "NEW", "tags": ["a"], "note": None},
          {"id": "o-2", "qty": 2, "status": "PAID", "tags": [], "note": "fragile"}]


class NodePeerTest(unittest.TestCase):
    def setUp(self):
        self.broker = kh.DevBroker(topics=["peer.avro"], partitions=1)
        self.addCleanup(self.broker.stop)
        self.registry, self.registry_url = schema_registry_standin.serve()
        self.addCleanup(self.registry.server_close)
        self.addCleanup(self.registry.shutdown)

    def test_kafkajs_writes_avro_in_confluents_wire_format_and_reads_it_back(self):
        schema_id = node_peer.produce(self.broker.bootstrap, self.registry_url, "peer.avro", "avro",
                                      ORDER_SCHEMA, ORDERS)
        records = kh.read_topic(self.broker.bootstrap, "peer.avro", timeout=20)
        self.assertEqual(len(records), 2)
        for record in records:
            magic, framed_id = struct.unpack(">bI", record.value()[:5])
            self.assertEqual((magic, framed_id), (0, schema_id))
        # {"id": "o-1", ...}: the Avro string "o-1" right after the frame (zigzag length 3 = 6).
        self.assertEqual(records[0].value()[5:9], b"\x06o-1")
        read = node_peer.consume(self.broker.bootstrap, self.registry_url, "peer.avro", 2, timeout=25)
        self.assertEqual([line["value"] for line in read], ORDERS)


if __name__ == "__main__":
    unittest.main()
