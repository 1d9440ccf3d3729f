"""A kernel's own settings and named outputs, as a process on kernel-dev-broker, checked with
confluent-kafka: settings read typed from the environment and .env, outputs written to their
topics (one moved by KAFKA_OUTPUT_TOPIC_<NAME>), and the secret setting never printed: not by
--print-config, not in configuration errors, not in any log line at trace level. And
--print-config refuses what a start refuses, in the same words."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
import kernel_harness as kh  # noqa: E402

SETTINGS_KERNEL = os.environ["SETTINGS_KERNEL"]
BATCH_KERNEL = os.environ["EXAMPLE_BULK_SINK"]  # a batch_handler kernel
SECRET = "pk-live-5f8e2d91c0ab"
ADMIN_TOKEN = "adm-7d1e99b04c2f"  # a runtime secret (KERNEL_ADMIN_TOKEN)
TOPICS = ("st.in", "st.out", "st.intl", "st.audit.v2", "settings-kernel.dlq")


def run_binary(binary, *args, env=None):
    return kh.run_binary(binary, *args, env=kh.clean_environment(**(env or {})))


def run_kernel(*args, env=None):
    return run_binary(SETTINGS_KERNEL, *args, env=env)


class SettingsTests(unittest.TestCase):
    def test_outputs_settings_and_a_masked_secret(self):
        with kh.DevBroker(TOPICS, partitions=2) as broker, tempfile.TemporaryDirectory() as workdir:
            with open(os.path.join(workdir, ".env"), "w") as f:
                f.write("SETTINGS_KERNEL_BATCH_SIZE=250\n")  # .env counts as environment
            environment = {"KERNEL_LOG_LEVEL": "trace", "SETTINGS_KERNEL_API_KEY": SECRET,
                           "KERNEL_ADMIN_TOKEN": ADMIN_TOKEN,
                           "SETTINGS_KERNEL_MODE": "safe", "SETTINGS_KERNEL_POLL_EVRY": "5s",
                           "KAFKA_OUTPUT_TOPIC_AUDIT": "st.audit.v2"}
            # Started where the .env is.
            kernel = kh.KernelProcess.on_broker(SETTINGS_KERNEL, broker.bootstrap, cwd=workdir, **environment)
            self.addCleanup(kernel.close)
            kh.produce(broker.bootstrap, "st.in", [("k1", json.dumps({"n": 1, "region": "intl"})),
                                                   ("k2", json.dumps({"n": 2, "region": "domestic"})),
                                                   ("k3", json.dumps({"n": 3, "leak": True})),
                                                   ("k4", json.dumps({"n": 4, "leak_env": "KERNEL_ADMIN_TOKEN"}))])

            def read(topic, count):
                with kh.TopicReader(broker.bootstrap, topic) as reader:
                    return reader.read_until(count, 30)
            outputs, intl = read("st.out", 2), read("st.intl", 1)
            audit, dead = read("st.audit.v2", 2), read("settings-kernel.dlq", 2)
            documents = sorted((json.loads(m.value()) for m in outputs), key=lambda d: d["n"])
            self.assertEqual(documents, [{"n": 1, "batch": 250, "mode": "safe", "poll_ms": 2000},
                                         {"n": 2, "batch": 250, "mode": "safe", "poll_ms": 2000}])
            self.assertEqual([m.key() for m in intl], [b"k1"])
            self.assertEqual(sorted(m.key() for m in audit), [b"k1", b"k2"])
            # Secret values quoted by a handler's exception are *** in the dead letter's headers.
            messages = {m.key(): dict(m.headers())["dlq-error-message"].decode() for m in dead}
            self.assertEqual(messages, {b"k3": "GET https://pricing/?key=*** failed", b"k4": "token *** refused"})
            for letter in dead:
                headers = b"".join(value or b"" for _, value in letter.headers())
                self.assertNotIn(SECRET.encode(), headers)
                self.assertNotIn(ADMIN_TOKEN.encode(), headers)
            kh.wait_for(lambda: kernel.log_contains("dead-lettering"), 30, "the dead-letter log line")
            self.assertEqual(kernel.stop(), 0)
            log = "\n".join(kernel.lines)
            self.assertIn("did you mean SETTINGS_KERNEL_POLL_EVERY?", log)
            self.assertIn("calling the pricing API with key ***", log)  # trace level, masked
            self.assertIn("key=*** failed", log)
            self.assertIn("token *** refused", log)
            self.assertNotIn(SECRET, log)
            self.assertNotIn(ADMIN_TOKEN, log)

    def test_print_config_lists_settings_and_outputs_with_sources(self):
        result = run_kernel("--print-config", env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
                                                   "SETTINGS_KERNEL_API_KEY": SECRET,
                                                   "KAFKA_OUTPUT_TOPIC_INTERNATIONAL": "intl.v2"})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("SETTINGS_KERNEL_API_KEY=***  # env", result.stdout)
        self.assertIn("SETTINGS_KERNEL_BATCH_SIZE=100  # default", result.stdout)
        self.assertIn("KAFKA_OUTPUT_TOPIC_INTERNATIONAL=intl.v2  # env", result.stdout)
        self.assertIn("KAFKA_OUTPUT_TOPIC_AUDIT=st.audit  # code", result.stdout)
        self.assertNotIn(SECRET, result.stdout + result.stderr)

    def test_every_problem_at_once_exit_78_secret_hidden(self):
        result = run_kernel(env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9", "SETTINGS_KERNEL_BATCH_SIZE": SECRET,
                                 "SETTINGS_KERNEL_MODE": "sideways", "KAFKA_OUTPUT_TOPIC_AUDIT": "bad topic"})
        self.assertEqual(result.returncode, 78, result.stderr)
        lines = result.stderr.splitlines()
        self.assertIn('config error: SETTINGS_KERNEL_MODE="sideways": expected one of fast, safe', lines)
        self.assertTrue(any(line.startswith("config error: SETTINGS_KERNEL_API_KEY: required by settings-kernel")
                            for line in lines), lines)
        self.assertTrue(any("KAFKA_OUTPUT_TOPIC_AUDIT" in line for line in lines), lines)
        self.assertTrue(any("SETTINGS_KERNEL_BATCH_SIZE" in line for line in lines), lines)
        # The key was pasted into the wrong variable: a config error must not echo it either.
        result = run_kernel(env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9", "SETTINGS_KERNEL_API_KEY": SECRET,
                                 "SETTINGS_KERNEL_BATCH_SIZE": SECRET})
        self.assertEqual(result.returncode, 78, result.stderr)
        self.assertNotIn(SECRET, result.stderr)

    def test_print_config_refuses_what_a_start_refuses_in_the_same_words(self):
        # Each is refused before anything connects (KERNEL_STARTUP_TIMEOUT bounds the start if
        # it is not); the embedded broker is one a start could reach.
        cases = {
            "a batch kernel with worker threads": {"KERNEL_CONCURRENCY": "4"},
            "a property librdkafka refuses only for a transactional producer": {
                "KERNEL_DELIVERY": "exactly_once", "KAFKA_PROPERTY_SOCKET_TIMEOUT_MS": "90000"},
        }
        for case, variables in cases.items():
            with self.subTest(case):
                env = {"KAFKA_BOOTSTRAP_SERVERS": "embedded", "KERNEL_HTTP_PORT": "off",
                       "KERNEL_STARTUP_TIMEOUT": "5s", **variables}
                printed = run_binary(BATCH_KERNEL, "--print-config", env=env)
                started = run_binary(BATCH_KERNEL, env=env)
                self.assertEqual(started.returncode, 78, started.stderr)
                self.assertEqual(printed.returncode, 78, printed.stdout)
                self.assertEqual(printed.stderr, started.stderr)
                lines = printed.stderr.splitlines()
                self.assertEqual(len(lines), 1, lines)
                self.assertTrue(lines[0].startswith("config error: " + list(variables)[-1] + "="), lines)

    def test_print_config_shows_the_warnings_a_start_would_log(self):
        result = run_kernel("--print-config", env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
                                                   "SETTINGS_KERNEL_API_KEY": SECRET, "KAFKA_TOPICS": "st.in"})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("warning: unknown variable KAFKA_TOPICS: did you mean KAFKA_TOPIC?", result.stderr.splitlines())
        self.assertIn("KAFKA_TOPIC=st.in  # code", result.stdout)

    def test_reference_formats_need_no_environment(self):
        reference = json.loads(run_kernel("--print-config", "--format", "json").stdout)
        rows = {row["name"]: row for row in reference}
        self.assertEqual(rows["SETTINGS_KERNEL_API_KEY"]["secret"], True)
        self.assertEqual(rows["SETTINGS_KERNEL_API_KEY"]["required"], True)
        self.assertEqual(rows["SETTINGS_KERNEL_MODE"]["accepted"], ["fast", "safe"])
        self.assertEqual(rows["KAFKA_OUTPUT_TOPIC_INTERNATIONAL"]["default"], "st.intl")
        self.assertEqual(rows["KAFKA_TOPIC"]["default"], "st.in")
        env = run_kernel("--print-config", "--format", "env")
        self.assertEqual(env.returncode, 0)
        self.assertIn("# SETTINGS_KERNEL_BATCH_SIZE=100\n", env.stdout)
        markdown = run_kernel("--print-config", "--format", "markdown")
        self.assertIn("| `SETTINGS_KERNEL_API_KEY` *secret* | string | required |", markdown.stdout)
        bad = run_kernel("--print-config", "--format", "yaml")
        self.assertEqual(bad.returncode, 64)
        alone = run_kernel("--format", "json")
        self.assertEqual(alone.returncode, 64)


if __name__ == "__main__":
    unittest.main()
