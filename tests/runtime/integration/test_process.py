"""Process-level integration tests: kernels as separate processes on kernel-dev-broker,
driven and checked with confluent-kafka (a client no one here wrote). Loopback only; every
wait is a condition with a deadline."""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition

IT_KERNEL = os.environ["IT_KERNEL"]
DEV_BROKER = os.environ["DEV_BROKER"]
EXAMPLE_KERNEL = os.environ.get("EXAMPLE_KERNEL")


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)  # polling a condition, with a deadline
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def http(method, url, headers=None, timeout=5):
    """(status, body) of a request; (None, error) when nothing answers."""
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout) as error:
        return None, str(error)


def address_of(kernel):
    """The address and port a kernel started with KERNEL_HTTP_PORT=0 logged."""
    def find():
        for line in list(kernel.lines):
            match = re.search(r"health, metrics and admin on http://([^:]+):(\d+)", line)
            if match:
                return match.group(1), int(match.group(2))
        return None
    return wait_for(find, 30, "the kernel to log its HTTP port")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, partitions=8, topics=("it.in", "it.out", "it-kernel.dlq")):
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


class Kernel:
    """A kernel process whose stderr is collected line by line."""

    def __init__(self, binary, bootstrap, **env):
        environment = dict(os.environ)
        environment.update({"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KERNEL_LOG_LEVEL": "info",
                            "KAFKA_CONSUMER_COMMIT_INTERVAL": "200ms", "KERNEL_HTTP_PORT": "off"})
        environment.update({k: str(v) for k, v in env.items()})
        self.process = subprocess.Popen([binary], env=environment, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, cwd=tempfile.gettempdir())
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def log_contains(self, text):
        return any(text in line for line in list(self.lines))

    def assigned(self):
        """Partitions of it.in currently assigned, from the kernel's log."""
        owned = set()
        for line in list(self.lines):
            for verb in ("assigned ", "revoked ", "lost "):
                if f"] {verb}" in line:
                    for part in line.split(f"] {verb}", 1)[1].split():
                        if part.startswith("it.in["):
                            numbers = {int(p) for p in part[len("it.in["):-1].split(",")}
                            owned = owned | numbers if verb == "assigned " else owned - numbers
        return owned

    def stop(self, sig=signal.SIGTERM, timeout=30):
        self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self.reader.join(timeout=5)
        self.process.stdout.close()
        return code


def produce(bootstrap, records, topic="it.in"):
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    failed = []
    for key, value in records:
        while True:
            try:
                producer.produce(topic, key=key, value=value,
                                 on_delivery=lambda err, msg: err and failed.append(err))
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    assert producer.flush(60) == 0 and not failed, failed


class TopicReader:
    """Reads a topic from the beginning, outside any group, accumulating what arrives."""

    def __init__(self, bootstrap, topic, partitions=8):
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-reader",
                                  "enable.auto.commit": False})
        self.consumer.assign([TopicPartition(topic, p, -2) for p in range(partitions)])
        self.messages = []

    def read_until(self, count, timeout):
        def enough():
            for message in self.consumer.consume(500, 0.2):
                if not message.error():
                    self.messages.append(message)
            return len(self.messages) >= count
        wait_for(enough, timeout, f"{count} messages (have {len(self.messages)})")
        return self.messages

    def drain(self, quiet=1.0):
        """Reads whatever else arrives until nothing has come for `quiet` seconds."""
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            batch = [m for m in self.consumer.consume(500, 0.2) if not m.error()]
            if batch:
                self.messages.extend(batch)
                last = time.monotonic()
        return self.messages

    def close(self):
        self.consumer.close()


def committed(bootstrap, group, topic="it.in", partitions=8):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    offsets = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
    consumer.close()
    return {tp.partition: tp.offset for tp in offsets}


def high_watermarks(bootstrap, topic="it.in", partitions=8):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-watermarks"})
    marks = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
    consumer.close()
    return marks


def numbers_of(messages):
    return [json.loads(m.value())["n"] for m in messages]


class BrokerTestCase(unittest.TestCase):
    """A kernel-dev-broker per test, and every kernel and reader a test starts cleaned up."""
    partitions = 8

    def setUp(self):
        self.broker = Broker(partitions=self.partitions)
        self.kernels = []
        self.readers = []

    def tearDown(self):
        for kernel in self.kernels:
            if kernel.process.poll() is None:
                kernel.process.kill()
                kernel.process.wait()
            kernel.reader.join(timeout=5)
            for stream in (kernel.process.stdout, kernel.process.stderr):
                stream.close()
        for reader in self.readers:
            reader.close()
        self.broker.stop()


class ProcessTests(BrokerTestCase):
    def start(self, **env):
        kernel = Kernel(IT_KERNEL, self.broker.bootstrap, **env)
        self.kernels.append(kernel)
        return kernel

    def reader(self, topic="it.out"):
        reader = TopicReader(self.broker.bootstrap, topic)
        self.readers.append(reader)
        return reader

    def test_ten_thousand_in_ten_thousand_out_keys_preserved(self):
        count = 10_000
        produce(self.broker.bootstrap, [(f"key-{n}", json.dumps({"n": n})) for n in range(count)])
        kernel = self.start(KAFKA_CONSUMER_GROUP="ten-thousand")
        messages = self.reader().read_until(count, 90)
        self.assertEqual(len(messages), count)
        by_number = {json.loads(m.value())["n"]: m.key().decode() for m in messages}
        self.assertEqual(sorted(by_number), list(range(count)))
        for n, key in by_number.items():
            self.assertEqual(key, f"key-{n}")
        headers = dict(messages[0].headers())
        for name in ("event-id", "correlation-id", "source", "timestamp", "content-type"):
            self.assertIn(name, headers)
        self.assertEqual(headers["source"], b"it-kernel")
        self.assertEqual(kernel.stop(), 0)
        self.assertEqual(committed(self.broker.bootstrap, "ten-thousand"), high_watermarks(self.broker.bootstrap))

    def test_poison_message_is_dead_lettered_byte_for_byte(self):
        poison = b"\xff\xfe not json \x00 at all"
        producer = Producer({"bootstrap.servers": self.broker.bootstrap})
        for n in range(3):
            producer.produce("it.in", key=b"same-key", value=json.dumps({"n": n}).encode(), partition=2)
        producer.produce("it.in", key=b"same-key", value=poison, partition=2,
                         headers=[("correlation-id", b"corr-9"), ("custom", b"\x01\x02"), ("absent", None),
                                  ("empty", b"")])
        for n in range(3, 6):
            producer.produce("it.in", key=b"same-key", value=json.dumps({"n": n}).encode(), partition=2)
        producer.flush(30)
        kernel = self.start(KAFKA_CONSUMER_GROUP="poison")
        outputs = self.reader().read_until(6, 60)
        self.assertEqual(sorted(numbers_of(outputs)), [0, 1, 2, 3, 4, 5])
        dead = self.reader("it-kernel.dlq").read_until(1, 30)
        self.assertEqual(len(dead), 1)
        letter = dead[0]
        self.assertEqual(letter.value(), poison)
        self.assertEqual(letter.key(), b"same-key")
        headers = dict(letter.headers())
        self.assertEqual(headers["correlation-id"], b"corr-9")
        self.assertEqual(headers["custom"], b"\x01\x02")
        self.assertIsNone(headers["absent"])  # a null header stays null, an empty one empty
        self.assertEqual(headers["empty"], b"")
        self.assertEqual(headers["dlq-original-topic"], b"it.in")
        self.assertEqual(headers["dlq-original-partition"], b"2")
        self.assertEqual(headers["dlq-original-offset"], b"3")
        self.assertEqual(headers["dlq-kernel"], b"it-kernel")
        self.assertEqual(headers["dlq-error-class"], b"permanent")
        self.assertEqual(headers["dlq-failure-reason"], b"deserialization_error")
        self.assertEqual(headers["dlq-error-type"], b"kernel::PermanentError")
        self.assertIn(b"parse error", headers["dlq-error-message"])
        self.assertEqual(headers["dlq-retry-count"], b"0")
        self.assertRegex(headers["dlq-failed-at"].decode(), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertRegex(headers["dlq-original-timestamp"].decode(), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(kernel.stop(), 0)
        self.assertEqual(committed(self.broker.bootstrap, "poison")[2], 7)

    def restart_case(self, sig):
        count = 4000
        produce(self.broker.bootstrap, [(f"k{n}", json.dumps({"n": n})) for n in range(count)])
        env = {"KAFKA_CONSUMER_GROUP": f"restart-{sig}", "IT_HANDLE_DELAY_US": 200,
               "KAFKA_CONSUMER_SESSION_TIMEOUT": "6s", "KAFKA_CONSUMER_HEARTBEAT_INTERVAL": "1s"}
        reader = self.reader()
        first = self.start(**env)
        reader.read_until(500, 60)  # K outputs seen: stop it mid-stream
        code = first.stop(sig)
        if sig == signal.SIGTERM:
            self.assertEqual(code, 0, "\n".join(first.lines[-20:]))
        second = self.start(**env)
        reader.read_until(count, 120)
        wait_for(lambda: committed(self.broker.bootstrap, env["KAFKA_CONSUMER_GROUP"]) ==
                 high_watermarks(self.broker.bootstrap), 30, "every input committed")
        self.assertEqual(second.stop(), 0)
        numbers = numbers_of(reader.drain())
        self.assertEqual(set(numbers), set(range(count)), "every input out at least once")
        return numbers

    def test_sigterm_then_restart_delivers_everything_once(self):
        numbers = self.restart_case(signal.SIGTERM)
        self.assertEqual(len(numbers), len(set(numbers)), "no input out twice after a clean stop")

    def test_sigkill_then_restart_loses_nothing(self):
        self.restart_case(signal.SIGKILL)

    def test_two_members_split_the_partitions_and_one_takes_over(self):
        env = {"KAFKA_CONSUMER_GROUP": "pair"}
        a = self.start(**env)
        wait_for(lambda: a.assigned() == set(range(8)), 30, "first member assigned all partitions")
        b = self.start(**env)
        wait_for(lambda: a.assigned() and b.assigned() and a.assigned() | b.assigned() == set(range(8))
                 and not (a.assigned() & b.assigned()), 60, "a disjoint and complete split")
        produce(self.broker.bootstrap, [(f"k{n}", json.dumps({"n": n})) for n in range(2000)])
        reader = self.reader()
        reader.read_until(2000, 60)
        self.assertEqual(a.stop(), 0)
        wait_for(lambda: b.assigned() == set(range(8)), 60, "the other member takes over")
        produce(self.broker.bootstrap, [(f"k{n}", json.dumps({"n": n})) for n in range(2000, 3000)])
        numbers = numbers_of(reader.read_until(3000, 60))
        self.assertEqual(set(numbers), set(range(3000)))
        wait_for(lambda: committed(self.broker.bootstrap, "pair") == high_watermarks(self.broker.bootstrap),
                 30, "everything committed")
        self.assertEqual(b.stop(), 0)

    def test_fatal_error_stops_with_exit_1_and_commits_only_what_completed(self):
        producer = Producer({"bootstrap.servers": self.broker.bootstrap})
        for n in range(3):
            producer.produce("it.in", value=json.dumps({"n": n}).encode(), partition=0)
        producer.produce("it.in", value=json.dumps({"n": 3, "fail": "fatal"}).encode(), partition=0)
        producer.produce("it.in", value=json.dumps({"n": 4}).encode(), partition=0)
        producer.flush(30)
        kernel = self.start(KAFKA_CONSUMER_GROUP="fatal")
        self.assertEqual(kernel.process.wait(timeout=60), 1)
        self.assertEqual(committed(self.broker.bootstrap, "fatal")[0], 3)


class GroupChurnTests(BrokerTestCase):
    """Three members, one killed and one stopped mid-stream: how many inputs come out twice,
    and because of whom."""
    partitions = 12

    def test_kill_one_stop_another_duplicates_only_the_killed_members_uncommitted_work(self):
        count = 24_000
        delay_us = 1000  # each member handles at most 1,000 inputs a second
        commit_interval_s = 0.2
        max_poll_records = 100  # the in-flight cap per partition
        env = {"KAFKA_CONSUMER_GROUP": "churn", "IT_HANDLE_DELAY_US": delay_us,
               "KAFKA_CONSUMER_COMMIT_INTERVAL": f"{int(commit_interval_s * 1000)}ms",
               "KAFKA_MAX_POLL_RECORDS": max_poll_records,
               "KAFKA_CONSUMER_SESSION_TIMEOUT": "6s", "KAFKA_CONSUMER_HEARTBEAT_INTERVAL": "1s"}
        roles = ("killed", "stopped", "survivor")  # joined in this order
        members = {}
        for role in roles:
            members[role] = Kernel(IT_KERNEL, self.broker.bootstrap, IT_INSTANCE=role, **env)
            self.kernels.append(members[role])
        everything = set(range(self.partitions))
        wait_for(lambda: all(m.assigned() for m in members.values())
                 and set().union(*(m.assigned() for m in members.values())) == everything
                 and sum(len(m.assigned()) for m in members.values()) == self.partitions,
                 60, "three members splitting the partitions")
        killed_partitions = len(members["killed"].assigned())

        produce(self.broker.bootstrap, [(f"k{n}", json.dumps({"n": n})) for n in range(count)], topic="it.in")
        reader = TopicReader(self.broker.bootstrap, "it.out", self.partitions)
        self.readers.append(reader)
        reader.read_until(count // 6, 60)  # every member busy: churn now
        members["killed"].stop(signal.SIGKILL)
        stopped = members["stopped"]
        self.assertEqual(stopped.stop(), 0, "\n".join(stopped.lines[-20:]))

        survivor = members["survivor"]
        wait_for(lambda: survivor.assigned() == everything, 90, "the survivor owning every partition")
        seen = set()
        looked_at = 0

        def every_input_out():
            nonlocal looked_at
            messages = reader.read_until(0, 5)  # one more batch
            seen.update(json.loads(message.value())["n"] for message in messages[looked_at:])
            looked_at = len(messages)
            return len(seen) == count

        wait_for(every_input_out, 120, "every input out")
        wait_for(lambda: committed(self.broker.bootstrap, "churn", partitions=self.partitions) ==
                 high_watermarks(self.broker.bootstrap, partitions=self.partitions), 60, "every input committed")
        self.assertEqual(survivor.stop(), 0, "\n".join(survivor.lines[-20:]))
        outputs = reader.drain()

        # An input out twice is redone work: the member whose earlier output was not committed
        # caused it. Outputs of one input share a key, so their order on the topic is the order
        # they were made.
        by_input = {}
        for message in outputs:
            document = json.loads(message.value())
            by_input.setdefault(document["n"], []).append(document["by"])
        self.assertEqual(set(by_input), set(range(count)), "every input out at least once")
        duplicates = {role: 0 for role in roles}
        for makers in by_input.values():
            for earlier in makers[:-1]:
                duplicates[earlier] += 1
        handled = {role: sum(makers.count(role) for makers in by_input.values()) for role in roles}
        print(f"\nchurn: outputs {len(outputs)} for {count} inputs; handled per member {handled}; "
              f"duplicates caused per member {duplicates}", flush=True)
        self.assertEqual(duplicates["survivor"], 0, "the surviving member redid its own work")
        self.assertEqual(duplicates["stopped"], 0, "the member stopped with SIGTERM left work uncommitted")
        # A killed member loses at most what it handled since its last commit and what was in flight.
        bound = int(commit_interval_s * 1_000_000 / delay_us) + max_poll_records * killed_partitions
        self.assertLessEqual(duplicates["killed"], bound)


if __name__ == "__main__":
    unittest.main()
