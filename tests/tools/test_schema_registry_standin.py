"""The schema registry stand-in answers confluent-kafka-python's SchemaRegistryClient as a
registry does: ids, versions, lookups, compatibility refusals (409), 404s and basic auth."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schema_registry_standin  # noqa: E402
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.error import SchemaRegistryError  # noqa: E402

RECORD = '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}'
WIDER = ('{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}, '
         '{"name": "b", "type": "string", "default": ""}]}')
RETYPED = '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}]}'
PROTO = 'syntax = "proto3";\npackage t;\nmessage M { string a = 1; int32 b = 2; message N { int64 c = 1; } }\n'


class StandinTest(unittest.TestCase):
    def setUp(self):
        self.server, self.url = schema_registry_standin.serve()
        self.client = SchemaRegistryClient({"url": self.url})

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()

    def refusal(self, call):
        with self.assertRaises(SchemaRegistryError) as caught:
            call()
        return caught.exception

    def test_registering_the_same_schema_again_gives_its_id(self):
        first = self.client.register_schema("t-value", Schema(RECORD, "AVRO"))
        again = SchemaRegistryClient({"url": self.url}).register_schema("t-value", Schema(RECORD, "AVRO"))
        self.assertEqual(first, again)
        self.assertEqual(self.client.get_versions("t-value"), [1])

    def test_a_schema_is_found_by_id_version_and_lookup(self):
        schema_id = self.client.register_schema("p-value", Schema(PROTO, "PROTOBUF"))
        found = self.client.get_schema(schema_id)
        self.assertEqual((found.schema_str, found.schema_type), (PROTO, "PROTOBUF"))
        latest = self.client.get_latest_version("p-value")
        self.assertEqual((latest.schema_id, latest.version), (schema_id, 1))
        self.assertEqual(self.client.lookup_schema("p-value", Schema(PROTO, "PROTOBUF")).schema_id, schema_id)
        self.assertEqual(self.client.get_subjects(), ["p-value"])

    def test_backward_refuses_a_changed_type_or_removed_field_and_accepts_an_added_one(self):
        self.client.register_schema("t-value", Schema(RECORD, "AVRO"))
        self.assertEqual(self.client.register_schema("t-value", Schema(WIDER, "AVRO")), 2)
        refused = self.refusal(lambda: self.client.register_schema("t-value", Schema(RETYPED, "AVRO")))
        self.assertEqual((refused.http_status_code, refused.error_code), (409, 409))
        self.client.register_schema("p-value", Schema(PROTO, "PROTOBUF"))
        smaller = PROTO.replace(" int32 b = 2;", "")
        self.assertEqual(self.refusal(lambda: self.client.register_schema(
            "p-value", Schema(smaller, "PROTOBUF"))).http_status_code, 409)

    def test_compatibility_none_accepts_any_change(self):
        self.client.register_schema("t-value", Schema(RECORD, "AVRO"))
        self.client.set_compatibility("t-value", "NONE")
        self.assertEqual(self.client.get_compatibility("t-value"), "NONE")
        self.assertEqual(self.client.get_compatibility(), "BACKWARD")
        self.client.register_schema("t-value", Schema(RETYPED, "AVRO"))

    def test_unknown_ids_subjects_and_versions_are_404_with_confluent_error_codes(self):
        self.assertEqual(self.refusal(lambda: self.client.get_schema(42)).error_code, 40403)
        self.assertEqual(self.refusal(lambda: self.client.get_latest_version("none")).error_code, 40401)
        self.client.register_schema("t-value", Schema(RECORD, "AVRO"))
        self.assertEqual(self.refusal(lambda: self.client.get_version("t-value", 9)).error_code, 40402)

    def test_basic_auth_is_required_when_configured(self):
        server, url = schema_registry_standin.serve(user="u", password="p")
        try:
            SchemaRegistryClient({"url": url, "basic.auth.user.info": "u:p"}).get_subjects()
            refused = self.refusal(lambda: SchemaRegistryClient({"url": url}).get_subjects())
            self.assertEqual(refused.http_status_code, 401)
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    unittest.main()
