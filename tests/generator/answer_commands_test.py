#!/usr/bin/env python3
"""new-kernel add and remove (a setting or a named output of a kernel generated earlier), and
upgrade --help's list of answers, as installed. Each test generates a kernel in a git repository
with the built-in templates; no kernel is built (tests/generator/upgrade_e2e_test.py grows and
builds one).

    answer_commands_test.py --new-kernel PREFIX/bin/new-kernel
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import new_kernel_harness as nh  # noqa: E402

NEW_KERNEL = None
SPEC = "HIGH_PRIORITY_AMOUNT=double:100:orders from this amount are urgent"


def run(*args, cwd):
    return subprocess.run([NEW_KERNEL, *args], cwd=cwd, env=nh.environment(), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)


class Kernel(unittest.TestCase):
    """Kernel `orders-enricher` (enrichment, one output), committed, in a scratch directory."""

    def setUp(self):
        self._scratch = tempfile.TemporaryDirectory()
        self.scratch = self._scratch.name
        result = run("orders-enricher", "--topic", "orders", "--output-topic", "orders.enriched", "--pattern",
                     "enrichment", cwd=self.scratch)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.kernel = os.path.join(self.scratch, "orders-enricher")

    def tearDown(self):
        self._scratch.cleanup()

    def new_kernel(self, *args, code=0):
        result = run(*args, cwd=self.kernel)
        self.assertEqual(result.returncode, code, result.stdout + result.stderr)
        return result

    def read(self, relative):
        with open(os.path.join(self.kernel, relative)) as f:
            return f.read()

    def answers(self):
        return json.loads(self.read(".new-kernel/manifest.json"))["answers"]

    def commit(self):
        subprocess.run(["git", "add", "-A"], cwd=self.kernel, check=True)
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "change"],
                       cwd=self.kernel, check=True)


class Add(Kernel):
    def test_add_setting_records_it_and_renders_every_managed_file(self):
        result = self.new_kernel("add", "setting", SPEC)
        self.assertEqual(self.answers()["settings"], [SPEC])
        for path in ("src/kernel_spec.cpp", ".env.template", "deploy/kubernetes.yaml", "README.md"):
            with self.subTest(path=path):
                self.assertIn(f"update       {path}", result.stdout)
                self.assertIn("HIGH_PRIORITY_AMOUNT", self.read(path))
        self.assertIn('.name = "HIGH_PRIORITY_AMOUNT"', self.read("src/kernel_spec.cpp"))
        self.assertIn("ORDERS_ENRICHER_HIGH_PRIORITY_AMOUNT=100", self.read(".env.template"))
        self.assertIn('const auto high_priority_amount = context.setting<double>("HIGH_PRIORITY_AMOUNT");',
                      result.stdout)
        self.assertEqual(self.new_kernel("check").returncode, 0)

    def test_add_output_records_it_and_prints_the_produce_line(self):
        result = self.new_kernel("add", "output", "audit=orders.audit")
        self.assertEqual(self.answers()["outputs"], ["audit=orders.audit"])
        self.assertIn('{"audit", "orders.audit"}', self.read("src/kernel_spec.cpp"))
        self.assertIn("KAFKA_OUTPUT_TOPIC_AUDIT", self.read("deploy/kubernetes.yaml"))
        self.assertIn('context.produce_to("audit", kernel::Outgoing{}.json(document));', result.stdout)

    def test_secret_makes_a_string_setting_secret(self):
        self.new_kernel("add", "setting", "API_KEY=string::key of the pricing API", "--secret")
        self.assertEqual(self.answers()["settings"], ["API_KEY=secret::key of the pricing API"])
        self.assertIn(".secret = true", self.read("src/kernel_spec.cpp"))

    def test_dry_run_prints_the_changes_and_writes_nothing(self):
        before = nh.files_under(self.kernel)
        result = self.new_kernel("add", "setting", SPEC, "--dry-run")
        self.assertIn("update       src/kernel_spec.cpp", result.stdout)
        self.assertIn("nothing was written", result.stdout)
        self.assertEqual(nh.files_under(self.kernel), before)

    def test_remove_restores_the_files_as_generated(self):
        before = nh.files_under(self.kernel)
        self.new_kernel("add", "setting", SPEC)
        self.commit()
        self.new_kernel("add", "output", "audit=orders.audit")
        self.commit()
        self.new_kernel("remove", "setting", "HIGH_PRIORITY_AMOUNT")
        self.commit()
        result = self.new_kernel("remove", "output", "audit")
        self.assertIn('"audit"', result.stdout)
        after = nh.files_under(self.kernel)
        for path in before:
            if path != ".new-kernel/manifest.json":
                self.assertEqual(after.get(path), before[path], path)
        self.assertEqual(self.answers()["settings"], [])
        self.assertEqual(self.answers()["outputs"], [])


class Refusals(Kernel):
    def assertRefused(self, args, code, message):
        before = nh.files_under(self.kernel)
        result = self.new_kernel(*args, code=code)
        self.assertIn(message, result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertEqual(nh.files_under(self.kernel), before)

    def test_a_bad_spec_gets_the_message_of_setting_and_output(self):
        self.assertRefused(["add", "setting", "batch=int"], 64, "--setting 'batch=int'")
        self.assertRefused(["add", "setting", "BATCH=integer"], 64, 'unknown type "integer"')
        self.assertRefused(["add", "output", "audit"], 64, "expected NAME=TOPIC")
        self.assertRefused(["add", "output", "audit=orders"], 64, "also an input or dead-letter topic")
        self.assertRefused(["add", "setting", "LIMIT=int:5", "--secret"], 64, "only a string setting can be secret")
        self.assertRefused(["add", "thing", "X=int"], 64, "add: KIND")

    def test_a_name_declared_twice_or_not_at_all_is_refused(self):
        self.new_kernel("add", "setting", SPEC)
        self.commit()
        self.new_kernel("add", "output", "audit=orders.audit")
        self.commit()
        self.assertRefused(["add", "setting", "HIGH_PRIORITY_AMOUNT=int"], 64,
                           "setting HIGH_PRIORITY_AMOUNT is already declared")
        self.assertRefused(["add", "output", "audit=orders.other"], 64, "output audit is already declared")
        self.assertRefused(["remove", "setting", "LOW"], 64, "no setting LOW is declared in "
                           ".new-kernel/manifest.json (declared: HIGH_PRIORITY_AMOUNT)")
        self.assertRefused(["remove", "output", "other"], 64, "(declared: audit)")

    def test_uncommitted_changes_to_managed_files_are_refused(self):
        with open(os.path.join(self.kernel, "README.md"), "a") as f:
            f.write("\nOur notes.\n")
        self.assertRefused(["add", "setting", SPEC], 73, "uncommitted changes to README.md")
        self.new_kernel("add", "setting", SPEC, "--allow-dirty")
        self.assertIn("Our notes.", self.read("README.md"))

    def test_outside_a_kernel_is_66(self):
        result = run("add", "output", "audit=orders.audit", cwd=self.scratch)
        self.assertEqual(result.returncode, 66, result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)


class Help(unittest.TestCase):
    def test_upgrade_help_lists_every_answer_with_an_example(self):
        result = run("upgrade", "--help", cwd=tempfile.gettempdir())
        self.assertEqual(result.returncode, 0, result.stderr)
        for key in ("name", "pattern", "input_topics", "output_topic", "description", "dlq_topic",
                    "consumer_group", "settings", "outputs"):
            self.assertIn(key, result.stdout)
        self.assertIn("--set 'settings=", result.stdout)
        self.assertIn("new-kernel add setting", result.stdout)

    def test_add_help_names_both_kinds_with_examples(self):
        result = run("add", "--help", cwd=tempfile.gettempdir())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("new-kernel add setting 'HIGH_PRIORITY_AMOUNT=double", result.stdout)
        self.assertIn("new-kernel add output audit=orders.audit", result.stdout)


def main():
    global NEW_KERNEL
    parser = argparse.ArgumentParser()
    parser.add_argument("--new-kernel", required=True)
    args, rest = parser.parse_known_args()
    NEW_KERNEL = os.path.abspath(args.new_kernel)
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
