"""The processes these tests start and stop around the kernel: kernel-dev-broker, and the
kernel itself, read through its log and its /metrics. confluent-kafka produces the inputs and
reads the topics. Loopback only; every wait is a condition with a deadline."""
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition


def wait_for(condition, timeout, what):
    """Polls `condition` until it returns something true, for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)  # polling a condition, with a deadline
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class DevBroker:
    """kernel-dev-broker with the given topics: it outlives the kernels a test kills."""

    def __init__(self, topics, partitions):
        args = [os.environ["KERNEL_DEV_BROKER"], "--partitions", str(partitions)]
        for topic in topics:
            args += ["--topic", topic]
        self.partitions = partitions
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline().strip()
        assert line.startswith("KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:"), line
        self.bootstrap = line.split("=", 1)[1]

    def produce(self, topic, records, per_second=None):
        """records: (key, value, headers) triples, at most `per_second` of them a second when
        given (a stream rather than a backlog); returns once the broker acknowledged them all."""
        producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 5})
        failed = []
        started = time.monotonic()
        for sent, (key, value, headers) in enumerate(records):
            if per_second and sent % 100 == 0:
                ahead = started + sent / per_second - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)  # pacing the stream, not a synchronisation
            while True:
                try:
                    producer.produce(topic, key=key, value=value, headers=headers or [],
                                     on_delivery=lambda err, msg: err and failed.append(err))
                    break
                except BufferError:
                    producer.poll(0.1)
            producer.poll(0)
        assert producer.flush(60) == 0 and not failed, failed

    def size(self, topic):
        """How many records `topic` holds (the sum of its high watermarks)."""
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "test-watermarks"})
        try:
            return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                       for p in range(self.partitions))
        finally:
            consumer.close()

    def read(self, topic, timeout=30):
        """Every record of `topic`, up to its current end."""
        count = self.size(topic)
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "test-reader",
                             "enable.auto.commit": False})
        consumer.assign([TopicPartition(topic, p, 0) for p in range(self.partitions)])
        records = []

        def all_read():
            records.extend(m for m in consumer.consume(500, 0.2) if not m.error())
            return len(records) >= count
        try:
            wait_for(all_read, timeout, f"{count} records of {topic}")
        finally:
            consumer.close()
        return records

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=10) == 0
        self.process.stdout.close()


class KernelProcess:
    """The kernel binary as a process on the broker, its stderr collected line by line."""

    def __init__(self, binary, bootstrap, **env):
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "KERNEL_"))}
        environment.update({"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KERNEL_HTTP_PORT": "0",
                            "KERNEL_HTTP_ADDRESS": "127.0.0.1", "KAFKA_CONSUMER_COMMIT_INTERVAL": "200ms"})
        environment.update({k: str(v) for k, v in env.items()})
        self.process = subprocess.Popen([binary], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True, errors="replace", cwd=tempfile.gettempdir())
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def log_contains(self, text):
        return any(text in line for line in list(self.lines))

    def running(self):
        return self.process.poll() is None

    def address(self):
        """Where its health, metrics and admin endpoints listen (KERNEL_HTTP_PORT=0 logs it)."""
        def logged():
            for line in list(self.lines):
                match = re.search(r"health, metrics and admin on (http://[\d.]+:\d+)", line)
                if match:
                    return match.group(1)
            return None
        return wait_for(logged, 30, "the kernel to log its HTTP address")

    def metric(self, name):
        """The value of an unlabelled metric on /metrics."""
        with urllib.request.urlopen(self.address() + "/metrics", timeout=5) as response:
            text = response.read().decode()
        match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
        return float(match.group(1)) if match else None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self.reader.join(timeout=5)
        self.process.stderr.close()
        return code
