#!/usr/bin/env python3
"""--format, --schema and --message, as installed (docs/generator.md, "Message formats"): every
problem one line and exit 64 with nothing written; a protobuf kernel gets its schema in
schemas/ and its answers in the manifest, and an upgrade or check leaves it alone; a json
kernel gets neither. Generates a few kernels, builds none: a few seconds.

    formats_test.py --new-kernel PREFIX/bin/new-kernel
"""
import argparse
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_test  # noqa: E402  (its run() and Scratch: one place for how new-kernel is run)

SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "schemas")
ORDER_PROTO = os.path.join(SCHEMAS, "order.proto")
ORDER_AVSC = os.path.join(SCHEMAS, "order.avsc")


class Refusals(cli_test.Scratch):
    def write(self, name, content):
        # Outside self.dir, which must stay empty.
        path = os.path.join(self.home, name)
        with open(path, "w") as f:
            f.write(content)
        return path

    def refused(self, message, *args):
        self.assertRefused(cli_test.run("k", "--topic", "orders", *args, cwd=self.dir), 64, message)

    def test_format_and_schema_rules(self):
        self.refused("--format thrift: unknown; choose one of json, protobuf, avro", "--format", "thrift")
        self.refused("without a format that reads it: add --format protobuf", "--schema", ORDER_PROTO)
        self.refused("--format protobuf reads values with a schema: give --schema FILE (a .proto)",
                     "--format", "protobuf")
        self.refused("--message Order without a schema", "--message", "Order")
        self.refused("--format avro works with --pattern consumer or transform; --pattern enrichment reads JSON",
                     "--pattern", "enrichment", "--output-topic", "out", "--format", "avro", "--schema", ORDER_AVSC)

    def test_schema_file_problems(self):
        missing = os.path.join(self.home, "absent.proto")
        self.refused(f"--schema {missing}: no such file", "--format", "protobuf", "--schema", missing)
        directory, fifo = os.path.join(self.home, "dir.proto"), os.path.join(self.home, "fifo.proto")
        os.mkdir(directory)
        os.mkfifo(fifo)  # never opened: reading it would wait for a writer
        self.refused("not a regular file", "--format", "protobuf", "--schema", directory)
        self.refused("not a regular file", "--format", "protobuf", "--schema", fifo)
        self.refused("larger than 256 KiB", "--format", "protobuf", "--schema",
                     self.write("large.proto", " " * (256 * 1024 + 1)))
        self.refused("needs a .avsc file", "--format", "avro", "--schema", ORDER_PROTO)
        self.refused("declares no top-level message", "--format", "protobuf", "--schema",
                     self.write("none.proto", 'syntax = "proto3";\n// message Commented {}\n'))
        self.refused("--message Refund: order.proto has no such top-level message; choose one of Order",
                     "--format", "protobuf", "--schema", ORDER_PROTO, "--message", "Refund")
        self.refused("is not JSON", "--format", "avro", "--schema", self.write("bad.avsc", "{nope"))
        self.refused("is not an Avro record schema", "--format", "avro", "--schema",
                     self.write("enum.avsc", '{"type": "enum", "name": "E", "symbols": ["A"]}'))


class Generated(cli_test.Scratch):
    def generate(self, name, *args):
        result = cli_test.run(name, "--topic", "orders", "--no-git", *args, cwd=self.dir,
                              env_extra={"HOME": self.home})
        self.assertEqual(result.returncode, 0, result.stderr)
        root = os.path.join(self.dir, name)
        with open(os.path.join(root, ".new-kernel", "manifest.json")) as f:
            return root, json.load(f)

    def test_a_protobuf_kernel_keeps_its_schema_and_upgrades_without_touching_it(self):
        root, manifest = self.generate("order-mapper", "--output-topic", "orders.mapped", "--format", "protobuf",
                                       "--schema", ORDER_PROTO)
        with open(ORDER_PROTO) as given, open(os.path.join(root, "schemas", "order.proto")) as copied:
            self.assertEqual(copied.read(), given.read())
        answers = manifest["answers"]
        self.assertEqual((answers["format"], answers["schema"], answers["message"]),
                         ("protobuf", "schemas/order.proto", "shop.Order"))
        # The team's file, not a template's: an upgrade never rewrites or deletes it.
        self.assertNotIn("schemas/order.proto", [f["path"] for f in manifest["files"]])
        with open(os.path.join(root, "src", "handler.cpp")) as f:
            self.assertIn("message.protobuf<shop::Order>()", f.read())
        with open(os.path.join(root, "CMakeLists.txt")) as f:
            self.assertIn("protobuf_generate(TARGET order_mapper_schemas", f.read())
        with open(os.path.join(root, "schemas", "order.proto"), "a") as f:
            f.write("// edited by the team\n")
        check = cli_test.run("check", root, cwd=self.dir, env_extra={"HOME": self.home})
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        upgrade = cli_test.run("upgrade", root, "--dry-run", cwd=self.dir, env_extra={"HOME": self.home})
        self.assertEqual(upgrade.returncode, 0, upgrade.stderr)
        self.assertIn("0 file(s) would change", upgrade.stdout)

    def test_an_upgrade_cannot_change_the_format(self):
        root, _ = self.generate("plain", "--format", "json")
        result = cli_test.run("upgrade", root, "--set", "format=protobuf", cwd=self.dir, env_extra={"HOME": self.home})
        self.assertEqual(result.returncode, 64, result.stderr)
        self.assertIn("--set format: the message format and schema are chosen when a kernel is generated",
                      result.stderr)

    def test_an_avro_kernel_names_its_record(self):
        root, manifest = self.generate("order-auditor", "--format", "avro", "--schema", ORDER_AVSC)
        self.assertEqual(manifest["answers"]["message"], "shop.Order")
        self.assertTrue(os.path.isfile(os.path.join(root, "schemas", "order.avsc")))
        with open(os.path.join(root, "src", "handler.cpp")) as f:
            self.assertIn("message.avro()", f.read())

    def test_a_json_kernel_has_no_schema_and_records_no_format(self):
        root, manifest = self.generate("plain", "--format", "json")
        self.assertFalse(os.path.exists(os.path.join(root, "schemas")))
        for key in ("format", "schema", "message"):
            self.assertNotIn(key, manifest["answers"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--new-kernel", required=True)
    args, rest = parser.parse_known_args()
    cli_test.NEW_KERNEL = os.path.abspath(args.new_kernel)
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
