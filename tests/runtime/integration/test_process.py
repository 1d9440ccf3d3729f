"""Process-level integration tests: kernels as separate processes on kernel-dev-broker,
driven and checked with confluent-kafka (a client no one here wrote). Loopback only; every
wait is a condition with a deadline."""
import json
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
import kernel_harness as kh  # noqa: E402

IT_KERNEL = os.environ["IT_KERNEL"]
IT_TOPICS = ("it.in", "it.out", "it-kernel.dlq")


class ItKernel(kh.KernelProcess):
    """it-kernel (or another kernel) on a broker, telling its partitions from its log."""

    @classmethod
    def start(cls, bootstrap, binary=IT_KERNEL, **settings):
        return cls.on_broker(binary, bootstrap, **settings)

    def assigned(self, topic="it.in"):
        """Partitions of `topic` currently assigned, from the kernel's log."""
        owned = set()
        for line in list(self.lines):
            for verb in ("assigned ", "revoked ", "lost "):
                if f"] {verb}" in line:
                    for part in line.split(f"] {verb}", 1)[1].split():
                        if part.startswith(f"{topic}["):
                            numbers = {int(p) for p in part[len(topic) + 1:-1].split(",")}
                            owned = owned | numbers if verb == "assigned " else owned - numbers
        return owned


def inputs(numbers, key=lambda n: f"k{n}"):
    """it-kernel's inputs {"n": n} for each number, keyed by `key(n)`."""
    return [(key(n), json.dumps({"n": n})) for n in numbers]


def numbers_of(messages):
    return [json.loads(m.value())["n"] for m in messages]


class BrokerTestCase(unittest.TestCase):
    """A kernel-dev-broker with it-kernel's topics per test; every kernel and reader a test
    starts is stopped after it, even when it fails."""
    partitions = 8

    def setUp(self):
        self.broker = kh.DevBroker(IT_TOPICS, partitions=self.partitions)
        self.addCleanup(self.broker.stop)

    def start(self, binary=IT_KERNEL, **settings):
        kernel = ItKernel.start(self.broker.bootstrap, binary, **settings)
        self.addCleanup(kernel.close)
        return kernel

    def reader(self, topic="it.out"):
        reader = kh.TopicReader(self.broker.bootstrap, topic, self.partitions)
        self.addCleanup(reader.close)
        return reader

    def produce(self, records, topic="it.in"):
        kh.produce(self.broker.bootstrap, topic, records)

    def committed(self, group, topic="it.in"):
        return kh.committed(self.broker.bootstrap, group, topic, self.partitions)

    def all_committed(self, group, topic="it.in"):
        """Every message of `topic` committed by `group`."""
        return self.committed(group, topic) == kh.watermarks(self.broker.bootstrap, topic, self.partitions)


class ProcessTests(BrokerTestCase):
    def test_ten_thousand_in_ten_thousand_out_keys_preserved(self):
        count = 10_000
        self.produce(inputs(range(count), key=lambda n: f"key-{n}"))
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
        self.assertTrue(self.all_committed("ten-thousand"), self.committed("ten-thousand"))

    def test_poison_message_is_dead_lettered_byte_for_byte(self):
        poison = b"\xff\xfe not json \x00 at all"
        poison_headers = [("correlation-id", b"corr-9"), ("custom", b"\x01\x02"), ("absent", None), ("empty", b"")]
        records = [{"value": json.dumps({"n": n}).encode()} for n in range(6)]
        records.insert(3, {"value": poison, "headers": poison_headers})
        self.produce([{"key": b"same-key", "partition": 2, **record} for record in records])
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
        self.assertEqual(self.committed("poison")[2], 7)

    def restart_case(self, sig):
        count = 4000
        self.produce(inputs(range(count)))
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
        kh.wait_for(lambda: self.all_committed(env["KAFKA_CONSUMER_GROUP"]), 30, "every input committed")
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
        kh.wait_for(lambda: a.assigned() == set(range(8)), 30, "first member assigned all partitions")
        b = self.start(**env)
        kh.wait_for(lambda: a.assigned() and b.assigned() and a.assigned() | b.assigned() == set(range(8))
                    and not (a.assigned() & b.assigned()), 60, "a disjoint and complete split")
        self.produce(inputs(range(2000)))
        reader = self.reader()
        reader.read_until(2000, 60)
        self.assertEqual(a.stop(), 0)
        kh.wait_for(lambda: b.assigned() == set(range(8)), 60, "the other member takes over")
        self.produce(inputs(range(2000, 3000)))
        numbers = numbers_of(reader.read_until(3000, 60))
        self.assertEqual(set(numbers), set(range(3000)))
        kh.wait_for(lambda: self.all_committed("pair"), 30, "everything committed")
        self.assertEqual(b.stop(), 0)

    def test_fatal_error_stops_with_exit_1_and_commits_only_what_completed(self):
        documents = [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3, "fail": "fatal"}, {"n": 4}]
        self.produce([{"value": json.dumps(document), "partition": 0} for document in documents])
        kernel = self.start(KAFKA_CONSUMER_GROUP="fatal")
        self.assertEqual(kernel.process.wait(timeout=60), 1)
        self.assertEqual(self.committed("fatal")[0], 3)


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
            members[role] = self.start(IT_INSTANCE=role, **env)
        everything = set(range(self.partitions))
        kh.wait_for(lambda: all(m.assigned() for m in members.values())
                    and set().union(*(m.assigned() for m in members.values())) == everything
                    and sum(len(m.assigned()) for m in members.values()) == self.partitions,
                    60, "three members splitting the partitions")
        killed_partitions = len(members["killed"].assigned())

        self.produce(inputs(range(count)))
        reader = self.reader()
        reader.read_until(count // 6, 60)  # every member busy: churn now
        members["killed"].stop(signal.SIGKILL)
        stopped = members["stopped"]
        self.assertEqual(stopped.stop(), 0, "\n".join(stopped.lines[-20:]))

        survivor = members["survivor"]
        kh.wait_for(lambda: survivor.assigned() == everything, 90, "the survivor owning every partition")
        seen = set()
        looked_at = 0

        def every_input_out():
            nonlocal looked_at
            messages = reader.read_until(0, 5)  # one more batch
            seen.update(json.loads(message.value())["n"] for message in messages[looked_at:])
            looked_at = len(messages)
            return len(seen) == count

        kh.wait_for(every_input_out, 120, "every input out")
        kh.wait_for(lambda: self.all_committed("churn"), 60, "every input committed")
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
