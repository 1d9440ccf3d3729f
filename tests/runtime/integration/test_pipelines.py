"""Pipeline naming, the produce guard and start-up topic verification, end to end: it-kernel as
a process, on its embedded broker (--dev) or on kernel-dev-broker, checked with confluent-kafka.
Loopback only; every wait is a condition with a deadline."""
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

IT_KERNEL = os.environ["IT_KERNEL"]
DEV_BROKER = os.environ["DEV_BROKER"]

STEP = "pipeline.orders.step.enrich"


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)  # polling a condition, with a deadline
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def kernel_environment(**env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "KERNEL_"))}
    environment.update({"KERNEL_LOG_LEVEL": "info", "KERNEL_HTTP_PORT": "off",
                        "KAFKA_CONSUMER_COMMIT_INTERVAL": "200ms", "KERNEL_STARTUP_TIMEOUT": "10s"})
    environment.update({k: str(v) for k, v in env.items()})
    return environment


def run_kernel(*args, **env):
    """Runs it-kernel to completion: (exit code, stdout, stderr)."""
    done = subprocess.run([IT_KERNEL, *args], env=kernel_environment(**env), capture_output=True, text=True,
                          timeout=60, cwd=tempfile.gettempdir())
    return done.returncode, done.stdout, done.stderr


class Broker:
    """kernel-dev-broker with the given topics."""

    def __init__(self, topics, partitions=2):
        args = [DEV_BROKER, "--partitions", str(partitions)]
        for topic in topics:
            args += ["--topic", topic]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline().strip()
        assert line.startswith("KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:"), line
        self.bootstrap = line.split("=", 1)[1]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=10) == 0
        self.process.stdout.close()


def topic_names(bootstrap):
    """Every topic the brokers know (a metadata request for all topics creates none)."""
    return set(AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics)


def read_all(bootstrap, topic, count, timeout):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{topic}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    messages = []
    try:
        deadline = time.monotonic() + timeout
        while len(messages) < count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and not message.error():
                messages.append(message)
    finally:
        consumer.close()
    return messages


def high_watermark_total(bootstrap, topic):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermarks"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        from confluent_kafka import TopicPartition
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions)
    finally:
        consumer.close()


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
        kernel = subprocess.Popen([IT_KERNEL, "--dev"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True, cwd=tempfile.gettempdir())
        lines = []
        reader = threading.Thread(target=lambda: [lines.append(l.rstrip("\n")) for l in kernel.stderr], daemon=True)
        reader.start()
        try:
            def bootstrap():
                for line in list(lines):
                    found = re.search(r"embedded development broker on (127\.0\.0\.1:\d+)", line)
                    if found:
                        return found.group(1)
                return None
            servers = wait_for(bootstrap, 20, "the embedded broker's address")
            wait_for(lambda: any("subscribed to" in l for l in list(lines)), 20, "the kernel to subscribe")
            self.assertTrue(any(f"subscribed to {STEP}.input as group orders-consumer-group" in l for l in lines),
                            lines)

            producer = Producer({"bootstrap.servers": servers})
            inputs = [("k1", {"n": 1}),
                      ("k2", {"n": 2, "to": "pipeline.billing.step.invoice.input"}),
                      ("k3", {"n": 3, "to": "pipeline.billing.step.pay.input"}),
                      ("k4", {"n": 4, "to": "rogue", "swallow": True})]
            for key, value in inputs:
                producer.produce(f"{STEP}.input", key=key, value=json.dumps(value))
            self.assertEqual(producer.flush(10), 0)

            dead = read_all(servers, f"{STEP}.dead-letter", 2, 30)
            self.assertEqual(sorted(m.key().decode() for m in dead), ["k3", "k4"])
            for message in dead:
                headers = {k: v.decode() for k, v in message.headers()}
                self.assertEqual(headers["dlq-failure-reason"], "topic_not_allowed")
                self.assertIn("KERNEL_ALLOWED_TOPICS", headers["dlq-error-message"])
            k3 = next(m for m in dead if m.key() == b"k3")
            self.assertIn("pipeline billing", dict(k3.headers())["dlq-error-message"].decode())

            outputs = read_all(servers, f"{STEP}.output", 2, 30)
            self.assertEqual(sorted(m.key().decode() for m in outputs), ["k1", "k2"])
            billing = read_all(servers, "pipeline.billing.step.invoice.input", 1, 30)
            self.assertEqual([m.key().decode() for m in billing], ["k2"])
            # Nothing of a refused attempt was sent: not its output, not the refused topic.
            self.assertEqual(high_watermark_total(servers, f"{STEP}.output"), 2)
            names = topic_names(servers)
            self.assertNotIn("rogue", names)
            self.assertNotIn("pipeline.billing.step.pay.input", names)
            self.assertIn(f"{STEP}.error", names)  # created with the step's other topics

            kernel.send_signal(signal.SIGTERM)
            self.assertEqual(kernel.wait(timeout=30), 0)
        finally:
            if kernel.poll() is None:
                kernel.kill()
                kernel.wait()
            reader.join(timeout=5)
            kernel.stderr.close()


class TopicVerificationTests(unittest.TestCase):
    def setUp(self):
        self.broker = None

    def tearDown(self):
        if self.broker:
            self.broker.stop()

    def test_missing_topic_exits_69_naming_it_and_creates_nothing(self):
        self.broker = Broker(["it.in", "it.out"])
        code, _, err = run_kernel(KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap)
        self.assertEqual(code, 69, err)
        self.assertIn("topics missing", err)
        self.assertIn("it-kernel.dlq", err)
        self.assertNotIn("it-kernel.dlq", topic_names(self.broker.bootstrap))

    def test_create_topics_creates_what_is_missing_and_exits(self):
        self.broker = Broker(["pipeline.orders.step.enrich.input"], partitions=3)
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
