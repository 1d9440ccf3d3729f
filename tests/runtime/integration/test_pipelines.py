"""Pipeline naming, the produce guard and start-up topic verification, end to end: it-kernel as
a process, on its embedded broker (--dev) or on kernel-dev-broker, checked with confluent-kafka.
Loopback only; every wait is a condition with a deadline."""
import json
import os
import re
import sys
import unittest

from confluent_kafka.admin import AdminClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
import kernel_harness as kh  # noqa: E402

IT_KERNEL = os.environ["IT_KERNEL"]

STEP = "pipeline.orders.step.enrich"


def kernel_environment(**settings):
    return kh.clean_environment(**{**kh.BROKER_KERNEL_SETTINGS, "KERNEL_STARTUP_TIMEOUT": "10s", **settings})


def run_kernel(*args, **settings):
    """Runs it-kernel to completion: (exit code, stdout, stderr)."""
    done = kh.run_binary(IT_KERNEL, *args, env=kernel_environment(**settings))
    return done.returncode, done.stdout, done.stderr


def topic_names(bootstrap):
    """Every topic the brokers know (a metadata request for all topics creates none)."""
    return set(AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics)


def read_all(bootstrap, topic, count):
    with kh.TopicReader(bootstrap, topic) as reader:
        return reader.read_until(count, 30)


class PipelineStepTests(unittest.TestCase):
    def test_print_config_shows_the_convention_and_the_error_topic(self):
        code, out, err = run_kernel("--print-config", KERNEL_PIPELINE="orders", KERNEL_STEP="enrich",
                                    KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9")
        self.assertEqual(code, 0, err)
        self.assertIn(f"KAFKA_TOPIC={STEP}.input  # pipeline", out)
        self.assertIn(f"KAFKA_ERROR_TOPIC={STEP}.error  # pipeline", out)
        self.assertIn("KAFKA_CONSUMER_GROUP=orders-consumer-group  # pipeline", out)

    def test_configuration_errors_exit_78_one_line_each(self):
        code, _, err = run_kernel(KERNEL_PIPELINE="orders", KERNEL_TOPIC_PATTERN="${nope}",
                                  KERNEL_ALLOWED_TOPICS="*", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9")
        self.assertEqual(code, 78, err)
        lines = [line for line in err.splitlines() if line.startswith("config error:")]
        self.assertEqual(len(lines), 3, err)

    def test_step_reads_and_writes_by_convention_and_the_guard_refuses_other_topics(self):
        env = kernel_environment(KERNEL_PIPELINE="orders", KERNEL_STEP="enrich",
                                 KERNEL_ALLOWED_TOPICS="pipeline.billing.step.invoice.input")
        with kh.KernelProcess(IT_KERNEL, "--dev", env=env) as kernel:
            def bootstrap():
                for line in list(kernel.lines):
                    found = re.search(r"embedded development broker on (127\.0\.0\.1:\d+)", line)
                    if found:
                        return found.group(1)
                return None
            servers = kh.wait_for(bootstrap, 20, "the embedded broker's address")
            kh.wait_for(lambda: kernel.log_contains("subscribed to"), 20, "the kernel to subscribe")
            self.assertTrue(kernel.log_contains(f"subscribed to {STEP}.input as group orders-consumer-group"),
                            kernel.lines)

            inputs = [("k1", {"n": 1}),
                      ("k2", {"n": 2, "to": "pipeline.billing.step.invoice.input"}),
                      ("k3", {"n": 3, "to": "pipeline.billing.step.pay.input"}),
                      ("k4", {"n": 4, "to": "rogue", "swallow": True})]
            kh.produce(servers, f"{STEP}.input", [(key, json.dumps(value)) for key, value in inputs])

            dead = read_all(servers, f"{STEP}.dead-letter", 2)
            self.assertEqual(sorted(m.key().decode() for m in dead), ["k3", "k4"])
            for message in dead:
                headers = {k: v.decode() for k, v in message.headers()}
                self.assertEqual(headers["dlq-failure-reason"], "topic_not_allowed")
                self.assertIn("KERNEL_ALLOWED_TOPICS", headers["dlq-error-message"])
            k3 = next(m for m in dead if m.key() == b"k3")
            self.assertIn("pipeline billing", dict(k3.headers())["dlq-error-message"].decode())

            outputs = read_all(servers, f"{STEP}.output", 2)
            self.assertEqual(sorted(m.key().decode() for m in outputs), ["k1", "k2"])
            billing = read_all(servers, "pipeline.billing.step.invoice.input", 1)
            self.assertEqual([m.key().decode() for m in billing], ["k2"])
            # Nothing of a refused attempt was sent: not its output, not the refused topic.
            self.assertEqual(sum(kh.watermarks(servers, f"{STEP}.output").values()), 2)
            names = topic_names(servers)
            self.assertNotIn("rogue", names)
            self.assertNotIn("pipeline.billing.step.pay.input", names)
            self.assertIn(f"{STEP}.error", names)  # created with the step's other topics

            self.assertEqual(kernel.stop(), 0)


class TopicVerificationTests(unittest.TestCase):
    def start_broker(self, topics, partitions=2):
        self.broker = kh.DevBroker(topics, partitions)
        self.addCleanup(self.broker.stop)

    def test_missing_topic_exits_69_naming_it_and_creates_nothing(self):
        self.start_broker(["it.in", "it.out"])
        code, _, err = run_kernel(KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap)
        self.assertEqual(code, 69, err)
        self.assertIn("topics missing", err)
        self.assertIn("it-kernel.dlq", err)
        self.assertNotIn("it-kernel.dlq", topic_names(self.broker.bootstrap))

    def test_create_topics_creates_what_is_missing_and_exits(self):
        self.start_broker(["pipeline.orders.step.enrich.input"], partitions=3)
        code, out, err = run_kernel("--create-topics", KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap,
                                    KERNEL_PIPELINE="orders", KERNEL_STEP="enrich",
                                    KERNEL_ALLOWED_TOPICS="audit.events,metrics.*")
        self.assertEqual(code, 0, err)
        # kernel-dev-broker has no CreateTopics: the fallback says so once.
        self.assertEqual(err.count("do not serve CreateTopics"), 1, err)
        names = topic_names(self.broker.bootstrap)
        for kind in ("output", "dead-letter", "error"):
            self.assertIn(f"{STEP}.{kind}", names)
        self.assertIn("audit.events", names)
        # A second run finds everything and creates nothing.
        code, _, err = run_kernel("--create-topics", KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap,
                                  KERNEL_PIPELINE="orders", KERNEL_STEP="enrich")
        self.assertEqual(code, 0, err)
        self.assertNotIn("CreateTopics", err)
        # Existing topics that differ from what the kernel expects: a warning naming both values.
        self.assertIn("has 4 partitions and replication 1; this kernel expects 3 partitions", err)


if __name__ == "__main__":
    unittest.main()
