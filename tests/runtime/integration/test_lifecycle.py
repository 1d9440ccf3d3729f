"""A kernel's command line and lifecycle as a user meets them: exit codes, messages, modes,
signals, logs, and kernel-dev-broker. Loopback only; every wait has a deadline."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
import kernel_harness as kh  # noqa: E402
from test_process import IT_TOPICS  # noqa: E402

IT_KERNEL = os.environ["IT_KERNEL"]
DEV_BROKER = os.environ["DEV_BROKER"]
EXAMPLE_KERNEL = os.environ["EXAMPLE_KERNEL"]
SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "enricher", "samples", "input.jsonl")


def clean_env(**settings):
    """No HTTP server unless a test asks for one."""
    return kh.clean_environment(**{"KERNEL_HTTP_PORT": "off", **settings})


def run(binary, *args, timeout=60, **settings):
    return kh.run_binary(binary, *args, env=clean_env(**settings), timeout=timeout)


def start(binary, *args, **settings):
    return kh.KernelProcess(binary, *args, env=clean_env(**settings))


def deeply_nested(levels=100_000):
    """~200 KB of JSON nested far beyond the runtime's limit (512 levels)."""
    return '{"a":' + "[" * levels + "]" * levels + "}"


def write_lines(*lines):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write("".join(line + "\n" for line in lines))
    return f.name


class CommandLineTests(unittest.TestCase):
    def test_production_without_brokers_is_a_configuration_error(self):
        result = run(IT_KERNEL)
        self.assertEqual(result.returncode, 78)
        self.assertIn("KAFKA_BOOTSTRAP_SERVERS", result.stderr)
        self.assertIn("embedded", result.stderr)
        self.assertIn("--dev", result.stderr)

    def test_every_bad_variable_is_one_line_and_all_are_reported(self):
        result = run(IT_KERNEL, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9092", KAFKA_CONSUMER_START_OFFSET="sideways",
                     KAFKA_CONSUMER_COMMIT_INTERVAL="5", KAFKA_PRODUCER_REQUIRE_ACKS="0")
        self.assertEqual(result.returncode, 78)
        lines = [l for l in result.stderr.splitlines() if l.startswith("config error:")]
        self.assertEqual(len(lines), 3, result.stderr)
        self.assertIn('config error: KAFKA_CONSUMER_START_OFFSET="sideways": expected earliest, latest, -2 or -1',
                      lines)

    def test_retry_topic_delays_that_shrink_or_are_zero_exit_78(self):
        for delays, expected in (("10s,1s", "non-decreasing"), ("0s,5s", "above 0"), ("1s,10", "KERNEL_RETRY_TOPICS")):
            result = run(IT_KERNEL, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9092", KERNEL_RETRY_TOPICS=delays)
            self.assertEqual(result.returncode, 78, result.stderr)
            lines = [l for l in result.stderr.splitlines() if l.startswith("config error:")]
            self.assertEqual(len(lines), 1, result.stderr)
            self.assertIn("KERNEL_RETRY_TOPICS", lines[0])
            self.assertIn(expected, lines[0])

    def test_values_librdkafka_would_misread_exit_78_at_once_one_line_each(self):
        started = time.monotonic()
        result = run(IT_KERNEL, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:99999", KAFKA_CONSUMER_MAX_BYTES="99999999999MB",
                     KAFKA_TOPIC_PREFIX="p" * 240, KAFKA_PROPERTY_="1", KERNEL_STARTUP_TIMEOUT="30s")
        self.assertEqual(result.returncode, 78, result.stderr)
        self.assertLess(time.monotonic() - started, 10)
        lines = [line for line in result.stderr.splitlines() if line.startswith("config error:")]
        by_variable = {line.split("=")[0][len("config error: "):]: line for line in lines}
        self.assertEqual(set(by_variable), {"KAFKA_BOOTSTRAP_SERVERS", "KAFKA_TOPIC_PREFIX", "KAFKA_PROPERTY_",
                                            "KAFKA_CONSUMER_MAX_BYTES"}, result.stderr)
        self.assertEqual(len(lines), 4, result.stderr)
        self.assertIn("1 to 65535", by_variable["KAFKA_BOOTSTRAP_SERVERS"])
        self.assertIn("0 to 2147483135 bytes", by_variable["KAFKA_CONSUMER_MAX_BYTES"])
        self.assertIn("249", by_variable["KAFKA_TOPIC_PREFIX"])

    def test_an_output_that_is_also_an_input_is_refused_at_start_unless_allowed(self):
        result = run(IT_KERNEL, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9", KAFKA_TOPIC="it.out")
        self.assertEqual(result.returncode, 78, result.stderr)
        line = result.stderr.strip().splitlines()[-1]
        self.assertTrue(line.startswith('config error: KAFKA_OUTPUT_TOPIC="it.out": is also an input topic'), line)
        self.assertIn("KAFKA_TOPIC", line)
        self.assertIn("KERNEL_ALLOW_OUTPUT_TO_INPUT", line)
        allowed = run(IT_KERNEL, "--print-config", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9", KAFKA_TOPIC="it.out",
                      KERNEL_ALLOW_OUTPUT_TO_INPUT="true")
        self.assertEqual(allowed.returncode, 0, allowed.stderr)

    def test_bad_command_line_exits_64(self):
        result = run(IT_KERNEL, "--no-such-flag")
        self.assertEqual(result.returncode, 64)
        self.assertIn("--no-such-flag", result.stderr)

    def test_version_and_help(self):
        result = run(EXAMPLE_KERNEL, "--version")
        self.assertEqual(result.returncode, 0)
        self.assertIn("example-enricher", result.stdout)
        help_text = run(EXAMPLE_KERNEL, "--help")
        self.assertEqual(help_text.returncode, 0)
        self.assertIn("--samples", help_text.stdout)

    def test_print_config_hides_secrets(self):
        result = run(IT_KERNEL, "--print-config", KAFKA_BOOTSTRAP_SERVERS="broker:9093",
                     KAFKA_SASL_MECHANISM="SCRAM-SHA-512", KAFKA_SASL_USERNAME="svc",
                     KAFKA_SASL_PASSWORD="very-secret-password-123")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("very-secret-password-123", result.stdout + result.stderr)
        self.assertIn("***", result.stdout)
        self.assertIn("SASL_SSL", result.stdout)

    def test_unreachable_brokers_exit_69_naming_them(self):
        port = kh.free_port()  # nothing listens there
        started = time.monotonic()
        result = run(IT_KERNEL, KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{port}", KERNEL_STARTUP_TIMEOUT="2s")
        self.assertEqual(result.returncode, 69, result.stderr)
        self.assertIn(f"127.0.0.1:{port}", result.stderr)
        self.assertLess(time.monotonic() - started, 20)

    def test_tls_refused_exits_77(self):
        with tempfile.TemporaryDirectory() as tmp:
            # The server's certificate is signed by a CA the kernel does not trust.
            _, ca = kh.self_signed_certificate(tmp, "trusted", "trusted-ca")
            kh.self_signed_certificate(tmp, "other", "other-ca")
            port = kh.free_port()
            server = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", "other.pem",
                                       "-key", "other.key", "-quiet"], cwd=tmp, stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                def listening():
                    with socket.socket() as s:
                        return s.connect_ex(("127.0.0.1", port)) == 0
                kh.wait_for(listening, 10, "openssl s_server")
                result = run(IT_KERNEL, KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{port}", KAFKA_CA_CERT=ca,
                             KERNEL_STARTUP_TIMEOUT="20s")
                self.assertEqual(result.returncode, 77, result.stderr)
                self.assertIn("TLS", result.stderr)
            finally:
                server.kill()
                server.wait()


    def test_tls_against_a_plaintext_listener_exits_77_at_once_naming_the_handshake(self):
        _, ca = kh.self_signed_certificate()
        broker = kh.DevBroker(IT_TOPICS, partitions=8)  # kernel-dev-broker: plaintext only
        try:
            started = time.monotonic()
            result = run(IT_KERNEL, KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, KAFKA_CA_CERT=ca,
                         KERNEL_STARTUP_TIMEOUT="30s")
            elapsed = time.monotonic() - started
        finally:
            broker.stop()
        self.assertEqual(result.returncode, 77, result.stderr[-2000:])
        self.assertLess(elapsed, 10)  # at once, not after KERNEL_STARTUP_TIMEOUT
        # librdkafka's own log lines may come before or after it: look for the kernel's summary.
        summary = [line for line in result.stderr.splitlines() if f"TLS handshake with {broker.bootstrap} failed" in line]
        self.assertEqual(len(summary), 1, result.stderr[-2000:])
        self.assertNotIn("check KAFKA_BOOTSTRAP_SERVERS and the network", result.stderr)


class SecretTests(unittest.TestCase):
    def test_no_secret_in_any_output_of_a_run_with_every_secret_set(self):
        key, cert = kh.self_signed_certificate(common_name="client", key_password="key-password-4711")
        key_body = "".join(key.strip().splitlines()[1:-1])
        secrets = {"KAFKA_CLIENT_KEY": key, "KAFKA_CLIENT_KEY_PASSWORD": "key-password-4711",
                   "KAFKA_SASL_PASSWORD": "sasl-password-0815", "KERNEL_ADMIN_TOKEN": "admin-token-2342"}
        env = dict(secrets, KAFKA_CLIENT_CERT=cert, KAFKA_CA_CERT=cert, KAFKA_SASL_MECHANISM="PLAIN",
                   KAFKA_SASL_USERNAME="svc", KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{kh.free_port()}",
                   KERNEL_STARTUP_TIMEOUT="2s", KERNEL_LOG_LEVEL="trace", KAFKA_PROPERTY_DEBUG="all")
        outputs = []
        for args in ([], ["--print-config"]):
            result = run(IT_KERNEL, *args, **env)
            outputs.append(result.stdout + result.stderr)
            self.assertIn(result.returncode, (0, 69), result.stderr[-2000:])
        everything = "\n".join(outputs)
        self.assertIn("librdkafka", everything)  # its debug lines were routed through the log
        for name in ("KAFKA_CLIENT_KEY_PASSWORD", "KAFKA_SASL_PASSWORD", "KERNEL_ADMIN_TOKEN"):
            self.assertNotIn(secrets[name], everything, name)
        for start in range(0, len(key_body) - 24, 24):  # no piece of the private key either
            self.assertNotIn(key_body[start:start + 24], everything)


class LifecycleTests(unittest.TestCase):
    def test_samples_prints_outputs_and_dead_letters_as_json_lines(self):
        result = run(EXAMPLE_KERNEL, "--samples", SAMPLES, KAFKA_BOOTSTRAP_SERVERS="broker.example:9092")
        self.assertEqual(result.returncode, 0, result.stderr)
        records = [json.loads(line) for line in result.stdout.splitlines()]
        outputs = [r for r in records if r["topic"] == "orders.enriched"]
        dead = [r for r in records if r["topic"] == "example-enricher.dlq"]
        self.assertEqual(len(outputs), 4)
        self.assertEqual(len(dead), 2)
        self.assertEqual({r["headers"]["dlq-failure-reason"] for r in dead}, {"deserialization_error",
                                                                              "validation_error"})
        for record in outputs:
            self.assertEqual(record["value"]["enriched_by"], "example-enricher")
            self.assertIn("event-id", record["headers"])
        self.assertIn("embedded", result.stderr)
        self.assertIn("broker.example:9092", result.stderr)  # says the configured broker is not used
        self.assertIn("6 expectations met", result.stderr)  # the example's samples say what they become

    def run_samples(self, samples, **env):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write("".join(json.dumps(sample) + "\n" for sample in samples))
        try:
            return run(IT_KERNEL, "--samples", f.name, KERNEL_RETRY_BACKOFF="10ms", **env)
        finally:
            os.unlink(f.name)

    # Every fate it-kernel can give, with the expectation that matches it.
    FATES = [
        {"key": "a", "value": {"n": 1}, "expect": "output"},
        {"key": "b", "value": {"n": 2, "fail": "business"}, "expect": "business_error"},
        {"key": "c", "value": {"n": 3, "fail": "permanent"}, "expect": "dead_letter",
         "expect_reason": "processing_error"},
        {"key": "d", "value": "not json", "expect": "dead_letter", "expect_reason": "deserialization_error"},
        {"key": "e", "value": {"n": 5, "fail": "transient", "times": 1}, "expect": "output"},
        {"key": "f", "value": {"n": 6, "fail": "transient"}, "expect": "dead_letter",
         "expect_reason": "retries_exhausted"},
        {"key": "g", "value": {"n": 7, "fail": "permanent"}},  # no expectation: not checked
    ]

    def test_samples_that_meet_their_expectations_exit_0(self):
        result = self.run_samples(self.FATES)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("expected", result.stderr)
        self.assertIn("6 expectations met", result.stderr)
        records = [json.loads(line) for line in result.stdout.splitlines()]
        self.assertEqual(len([r for r in records if r["topic"] == "it.out"]), 2)
        for record in records:  # the expectation is never sent
            self.assertNotIn("expect", json.dumps(record.get("value")))

    def test_samples_whose_fate_differs_exit_1_with_one_line_each(self):
        samples = [dict(sample) for sample in self.FATES]
        samples[0]["expect"] = "dead_letter"                    # line 1: it is an output
        samples[1]["expect"] = "output"                         # line 2: a business error
        samples[2]["expect_reason"] = "validation_error"        # line 3: processing_error
        samples[4]["expect"] = "business_error"                 # line 5: an output after one retry
        result = self.run_samples(samples)
        self.assertEqual(result.returncode, 1, result.stderr)
        lines = [l for l in result.stderr.splitlines() if ": expected " in l]
        self.assertEqual(len(lines), 4, result.stderr)
        self.assertIn("line 1: expected dead_letter, got output", lines[0])
        self.assertIn("line 2: expected output, got business_error (nothing to do)", lines[1])
        self.assertIn("line 3: expected dead_letter (validation_error), got dead_letter (processing_error: "
                      "rejected by the test)", lines[2])
        self.assertIn("line 5: expected business_error, got output", lines[3])
        self.assertIn("4 of 6 expectations differed", result.stderr)
        self.assertEqual(len(result.stdout.splitlines()), 6)  # 2 outputs and 4 dead letters still printed

    def test_samples_with_an_error_topic_show_business_errors_as_such_not_as_dead_letters(self):
        # KAFKA_ERROR_TOPIC: a business error is also published there, in the dead-letter form;
        # it is still a business error, in the summary, in the output's order and for "expect".
        result = self.run_samples(self.FATES, KAFKA_ERROR_TOPIC="it.errors")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("6 expectations met", result.stderr)
        self.assertIn("7 in, 2 produced, 4 dead-lettered, 1 business error published to it.errors",
                      result.stderr)
        records = [json.loads(line) for line in result.stdout.splitlines()]
        # Outputs, then business errors, then dead letters.
        self.assertEqual([r["topic"] for r in records], ["it.out"] * 2 + ["it.errors"] + ["it-kernel.dlq"] * 4)
        self.assertEqual(records[2]["key"], "b")
        self.assertEqual(records[2]["headers"]["dlq-error-class"], "business")
        samples = [dict(sample) for sample in self.FATES]
        samples[1]["expect"] = "dead_letter"  # line 2: on the error topic, yet a business error
        result = self.run_samples(samples, KAFKA_ERROR_TOPIC="it.errors")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("line 2: expected dead_letter, got business_error (nothing to do)", result.stderr)
        self.assertIn("1 of 6 expectations differed", result.stderr)

    def test_samples_with_an_unknown_expectation_exit_64_naming_the_line(self):
        cases = [
            ([{"value": 1}, {"value": 2, "expect": "ok"}], 'line 2: "expect" must be "output", "dead_letter" or '
                                                           '"business_error", not "ok"'),
            ([{"value": 1, "expect": "output", "expect_reason": "validation_error"}],
             'line 1: "expect_reason" goes with "expect": "dead_letter"'),
            ([{"value": 1}, {"value": 2, "expect": "dead_letter", "expect_reason": "bad_luck"}],
             'line 2: "expect_reason" must be "deserialization_error"'),
        ]
        for samples, says in cases:
            with self.subTest(says=says):
                result = self.run_samples(samples)
                self.assertEqual(result.returncode, 64, result.stderr)
                self.assertIn(says, result.stderr)

    def test_samples_file_errors_name_the_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write('{"value": 1}\n{"key": "k"}\n')
        try:
            result = run(EXAMPLE_KERNEL, "--samples", f.name)
            self.assertEqual(result.returncode, 64)
            self.assertIn("line 2", result.stderr)
        finally:
            os.unlink(f.name)

    def test_samples_dead_letter_a_deeply_nested_value_and_refuse_one_in_the_file(self):
        deep = deeply_nested()
        path = write_lines(json.dumps({"key": "deep", "value": deep}), json.dumps({"key": "k", "value": {"n": 1}}))
        try:
            result = run(IT_KERNEL, "--samples", path)
        finally:
            os.unlink(path)
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        records = [json.loads(line) for line in result.stdout.splitlines()]
        self.assertEqual([r["value"]["n"] for r in records if r["topic"] == "it.out"], [1])
        dead = [r for r in records if r["topic"] == "it-kernel.dlq"]
        self.assertEqual(len(dead), 1)
        self.assertEqual(dead[0]["value"], deep)  # too deep to show as JSON: shown as the string it is
        self.assertEqual(dead[0]["headers"]["dlq-failure-reason"], "deserialization_error")

        path = write_lines('{"value": 1}', '{"value": ' + deep[len('{"a":'):-1] + "}")
        try:
            result = run(IT_KERNEL, "--samples", path)
        finally:
            os.unlink(path)
        self.assertEqual(result.returncode, 64, result.stderr[-2000:])
        self.assertIn("line 2: JSON nested deeper than 512 levels", result.stderr)

    def test_dev_mode_uses_the_embedded_broker_and_stops_cleanly(self):
        kernel = start(IT_KERNEL, "--dev")
        try:
            kh.wait_for(lambda: kernel.log_contains("assigned it.in["), 30, "the kernel to join its group")
            self.assertTrue(kernel.log_contains("embedded development broker"))
        finally:
            kernel.process.send_signal(signal.SIGTERM)
        self.assertEqual(kernel.wait(), 0)

    def test_json_logs_are_one_object_per_line_naming_the_kernel(self):
        kernel = start(IT_KERNEL, "--dev", KERNEL_LOG_FORMAT="json")
        try:
            kh.wait_for(lambda: kernel.log_contains("assigned it.in["), 30, "the kernel to join its group")
        finally:
            kernel.process.send_signal(signal.SIGTERM)
        self.assertEqual(kernel.wait(), 0)
        for line in kernel.lines:
            entry = json.loads(line)
            self.assertEqual(entry["kernel"], "it-kernel")
            for field in ("ts", "level", "msg"):
                self.assertIn(field, entry)

    def busy_kernel(self, broker, **env):
        """A kernel stuck in a slow handler (5 s per message)."""
        kernel = start(IT_KERNEL, KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, IT_HANDLE_DELAY_US=5_000_000, **env)
        self.addCleanup(kernel.close)
        kh.wait_for(lambda: kernel.log_contains("assigned it.in["), 30, "the kernel to join its group")
        subprocess.run(["kcat", "-b", broker.bootstrap, "-t", "it.in", "-P"], input='{"n": 1}\n', text=True,
                       check=True, timeout=30)
        return kernel

    def test_second_signal_exits_at_once_with_128_plus_signal(self):
        broker = kh.DevBroker(IT_TOPICS, partitions=8)
        try:
            kernel = self.busy_kernel(broker)
            kh.wait_for(lambda: kernel.log_contains("working for"), 30, "the kernel to be inside its slow handler")
            kernel.process.send_signal(signal.SIGTERM)
            kh.wait_for(lambda: kernel.log_contains("send it again to exit at once"), 10,
                        "the first signal to be taken")
            kernel.process.send_signal(signal.SIGTERM)
            self.assertEqual(kernel.wait(timeout=10), 143)
        finally:
            broker.stop()

    def test_shutdown_is_bounded_by_the_watchdog(self):
        broker = kh.DevBroker(IT_TOPICS, partitions=8)
        try:
            kernel = self.busy_kernel(broker, KERNEL_SHUTDOWN_TIMEOUT="1s")
            kh.wait_for(lambda: kernel.log_contains("working for"), 30, "the kernel to be inside its slow handler")
            started = time.monotonic()
            kernel.process.send_signal(signal.SIGTERM)
            self.assertEqual(kernel.wait(timeout=10), 1)
            self.assertLess(time.monotonic() - started, 4)
            self.assertTrue(kernel.log_contains("KERNEL_SHUTDOWN_TIMEOUT"))
        finally:
            broker.stop()


class DevBrokerTests(unittest.TestCase):
    def test_seed_and_tail(self):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write('{"key": "a", "headers": {"h": "v"}, "value": {"x": 1}}\n{"key": null, "value": "plain"}\n')
        broker = subprocess.Popen([DEV_BROKER, "--partitions", "1", "--seed", f"seeded={f.name}", "--tail", "seeded"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            first = broker.stdout.readline()
            self.assertRegex(first, r"^KAFKA_BOOTSTRAP_SERVERS=127\.0\.0\.1:\d+$")
            lines = [json.loads(broker.stdout.readline()) for _ in range(2)]
            self.assertEqual(lines[0]["key"], "a")
            self.assertEqual(lines[0]["headers"], {"h": "v"})
            self.assertEqual(lines[0]["value"], {"x": 1})
            self.assertIsNone(lines[1]["key"])
            self.assertEqual(lines[1]["value"], "plain")
        finally:
            broker.send_signal(signal.SIGTERM)
            self.assertEqual(broker.wait(timeout=10), 0)
            broker.stdout.close()
            os.unlink(f.name)

    def test_seeding_counts_in_words(self):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write('{"value": 1}\n')
        broker = subprocess.Popen([DEV_BROKER, "--seed", f"one={f.name}"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        try:
            broker.stdout.readline()  # the servers: seeding is reported before them
            self.assertEqual(broker.stderr.readline().strip(), "kernel-dev-broker: seeded 1 message into one")
        finally:
            broker.send_signal(signal.SIGTERM)
            self.assertEqual(broker.wait(timeout=10), 0)
            broker.stdout.close()
            broker.stderr.close()
            os.unlink(f.name)

    def test_stopping_says_so_once_with_what_it_held(self):
        for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
            broker = subprocess.Popen([DEV_BROKER, "--partitions", "2", "--topic", "a", "--topic", "b"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                bootstrap = broker.stdout.readline().strip().split("=", 1)[1]
                producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
                for n in range(3):
                    producer.produce("a", value=b"x", partition=n % 2)
                self.assertEqual(producer.flush(30), 0)
                broker.send_signal(sig)
                _, errors = broker.communicate(timeout=15)
            finally:
                if broker.poll() is None:
                    broker.kill()
                    broker.communicate()
            self.assertEqual(broker.returncode, 0, errors)
            lines = errors.strip().splitlines()
            self.assertEqual(lines[-1], f"kernel-dev-broker: stopped ({name}); 2 topics and 3 messages held in "
                                        "memory are gone", errors)
            self.assertEqual(sum("stopped" in line for line in lines), 1, errors)

    def test_help_names_the_tool_by_its_name(self):
        result = subprocess.run([DEV_BROKER, "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn(os.path.dirname(DEV_BROKER), result.stdout)
        self.assertRegex(result.stdout, r"(?m)^Usage: kernel-dev-broker \[OPTIONS\]")

    def test_every_number_on_the_command_line_is_checked_with_one_line_and_exit_64(self):
        for value in ("0", "-1", "1001", "99999999999", "99999999999999999999", "0x10", "1e3", "four", ""):
            result = subprocess.run([DEV_BROKER, "--partitions", value], capture_output=True, text=True, timeout=10)
            self.assertEqual(result.returncode, 64, (value, result.stdout, result.stderr))
            self.assertEqual(result.stdout, "", value)  # no broker was started
            lines = result.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, (value, result.stderr))
            self.assertIn("kernel-dev-broker: --partitions", lines[0])
            self.assertIn("1 to 1000", lines[0])

    def test_port_gives_one_address_that_clients_use_throughout_and_a_busy_port_is_an_error(self):
        port = kh.free_port()
        address = f"127.0.0.1:{port}"
        for _ in range(2):  # the same address again after a restart
            broker = subprocess.Popen([DEV_BROKER, "--port", str(port), "--partitions", "1", "--topic", "fixed"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                self.assertEqual(broker.stdout.readline().strip(), f"KAFKA_BOOTSTRAP_SERVERS={address}")
                # The brokers' metadata names the same address, so clients never go elsewhere.
                metadata = AdminClient({"bootstrap.servers": address}).list_topics(timeout=10)
                self.assertEqual([f"{b.host}:{b.port}" for b in metadata.brokers.values()], [address])
                produced = subprocess.run(["kcat", "-b", address, "-t", "fixed", "-P"], input="hello\n", text=True,
                                          capture_output=True, timeout=30)
                self.assertEqual(produced.returncode, 0, produced.stderr)
                consumed = subprocess.run(["kcat", "-b", address, "-t", "fixed", "-C", "-c", "1", "-e"],
                                          capture_output=True, text=True, timeout=30)
                self.assertEqual(consumed.stdout.strip(), "hello", consumed.stderr)

                busy = subprocess.run([DEV_BROKER, "--port", str(port)], capture_output=True, text=True, timeout=10)
                self.assertEqual(busy.returncode, 69, busy.stderr)
                self.assertEqual(busy.stdout, "")
                self.assertEqual(len(busy.stderr.strip().splitlines()), 1, busy.stderr)
                self.assertIn(f"{address} is in use", busy.stderr)
            finally:
                broker.send_signal(signal.SIGTERM)
                self.assertEqual(broker.wait(timeout=10), 0)
                broker.stdout.close()
                broker.stderr.close()

    def test_seed_and_topic_mistakes_are_errors_before_the_broker_starts(self):
        with tempfile.TemporaryDirectory() as tmp:
            first, second = os.path.join(tmp, "a.jsonl"), os.path.join(tmp, "b.jsonl")
            for path in (first, second):
                with open(path, "w") as f:
                    f.write('{"value": 1}\n')
            for args, expected in (
                    (["--seed", f"orders={tmp}"], "is a directory"),
                    (["--seed", f"orders={os.path.join(tmp, 'missing.jsonl')}"], "does not exist"),
                    (["--seed", f"orders={first}", "--seed", f"orders={second}"], "orders is seeded twice"),
                    (["--seed", f"bad/name={first}"], "bad/name"),
                    (["--topic", "bad name"], "bad name"),
                    (["--topic", "x" * 250], "at most 249"),
                    (["--tail", ".."], "'..'")):
                result = subprocess.run([DEV_BROKER, *args], capture_output=True, text=True, timeout=10)
                self.assertEqual(result.returncode, 64, (args, result.stderr))
                self.assertEqual(result.stdout, "", args)  # nothing started
                lines = result.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, (args, result.stderr))
                self.assertIn(expected, lines[0])

    def test_seed_refuses_a_deeply_nested_value_and_tail_shows_one_as_a_string(self):
        deep = deeply_nested()
        path = write_lines('{"value": ' + deep + "}")
        try:
            result = subprocess.run([DEV_BROKER, "--seed", f"seeded={path}"], capture_output=True, text=True,
                                    timeout=30)
        finally:
            os.unlink(path)
        self.assertEqual(result.returncode, 64, result.stderr[-2000:])
        self.assertIn("line 1: JSON nested deeper than 512 levels", result.stderr)

        path = write_lines(json.dumps({"value": deep}))
        broker = subprocess.Popen([DEV_BROKER, "--partitions", "1", "--seed", f"seeded={path}", "--tail", "seeded"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            self.assertRegex(broker.stdout.readline(), r"^KAFKA_BOOTSTRAP_SERVERS=")
            self.assertEqual(json.loads(broker.stdout.readline())["value"], deep)
        finally:
            broker.send_signal(signal.SIGTERM)
            self.assertEqual(broker.wait(timeout=10), 0)
            broker.stdout.close()
            os.unlink(path)

    def test_bad_seed_argument_exits_64(self):
        result = subprocess.run([DEV_BROKER, "--seed", "no-equals-sign"], capture_output=True, text=True, timeout=10)
        self.assertEqual(result.returncode, 64)
        self.assertIn("TOPIC=FILE", result.stderr)


if __name__ == "__main__":
    unittest.main()
